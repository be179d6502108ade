import Foundation
import Testing
import TestSupport

/// Deploy/install.sh into a scratch root: the permissions model on disk, the unit following
/// PREFIX, and a second run (an upgrade) keeping the configuration.
@Suite struct InstallTests {
    static let script = Programs.packageRoot.appendingPathComponent("Deploy/install.sh").path

    static func mode(_ path: String) throws -> String {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return String((attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1, radix: 8)
    }

    @Test(.enabled(if: getuid() == 0, "install.sh creates users: needs root"))
    func installIntoAScratchRootLaysOutThePermissionsModel() throws {
        let scratch = try TemporaryDirectory("install-root")
        let root = scratch.path("root")
        let first = try Programs.runSystem("/usr/bin/env", ["PREFIX=/usr", "bash", Self.script, "--root", root, "--binaries", Programs.directory.path])
        #expect(first.status == 0, "\(first.output)")
        #expect(try Self.mode(root + "/etc/communesync") == "750")
        #expect(try Self.mode(root + "/etc/communesync/commune.toml") == "640")
        #expect(try Self.mode(root + "/var/lib/communesync") == "2770")
        #expect(FileManager.default.isExecutableFile(atPath: root + "/usr/bin/syncd"))
        let unit = try String(contentsOfFile: root + "/etc/systemd/system/syncd.service", encoding: .utf8)
        #expect(unit.contains("ExecStart=/usr/bin/syncd --config") && unit.contains("LoadCredential=hub-credential:/etc/communesync/credential"))
        let groups = try String(contentsOfFile: root + "/etc/group", encoding: .utf8)
        #expect(groups.contains("communesync-writers:"))

        // An admin's credential stored too openly is closed at the next run; the configuration is kept.
        try "06913.x".write(toFile: root + "/etc/communesync/credential", atomically: true, encoding: .utf8)
        chmod(root + "/etc/communesync/credential", 0o644)
        try "# edited\n".write(toFile: root + "/etc/communesync/commune.toml", atomically: true, encoding: .utf8)
        let second = try Programs.runSystem("/usr/bin/env", ["PREFIX=/usr", "bash", Self.script, "--root", root, "--binaries", Programs.directory.path])
        #expect(second.status == 0 && second.output.contains("kept the existing"), "\(second.output)")
        #expect(try Self.mode(root + "/etc/communesync/credential") == "600")
        #expect(try String(contentsOfFile: root + "/etc/communesync/commune.toml", encoding: .utf8) == "# edited\n")
    }
}
