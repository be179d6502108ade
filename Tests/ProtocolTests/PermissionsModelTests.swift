import SyncClient
import Testing

/// The permissions model's rules, one by one: what `syncctl doctor` reports for each mode.
@Suite struct PermissionsModelTests {
    typealias Facts = PermissionsModel.FileFacts

    @Test func aCredentialAnyoneButRootCanReadIsNamedWithItsFix() {
        #expect(PermissionsModel.credential(Facts(path: "/etc/communesync/credential", mode: 0o600, ownerIsRoot: true)) == nil)
        for mode in [0o640, 0o604, 0o644, 0o660] {
            let finding = PermissionsModel.credential(Facts(path: "/etc/communesync/credential", mode: mode, ownerIsRoot: true))
            #expect(finding?.fix.contains("chmod 600 /etc/communesync/credential") == true, "mode \(String(mode, radix: 8))")
        }
    }

    @Test func theRegisterIsTheWritersAndNobodyElses() {
        #expect(PermissionsModel.replica(Facts(path: "r.db", mode: 0o660, ownerIsRoot: false)) == nil)
        let everyone = PermissionsModel.replica(Facts(path: "r.db", mode: 0o644, ownerIsRoot: false))
        #expect(everyone?.problem.contains("every local user can read the register") == true)
        #expect(everyone?.fix == "chmod 660 r.db (and its -wal and -shm files)")
        let readOnlyGroup = PermissionsModel.replica(Facts(path: "r.db", mode: 0o640, ownerIsRoot: false))
        #expect(readOnlyGroup?.problem.contains("cannot write the register") == true)
        #expect(readOnlyGroup?.fix.contains("chgrp communesync-writers") == true)
    }
}
