import Foundation
import Testing
import TestSupport

/// Deploy/systemd-test.sh under `swift test`: a real systemd (a booted Debian container)
/// running the installed hub and office. Runs when the host can boot one (root,
/// systemd-nspawn, and debootstrap or an already bootstrapped tree); otherwise the reason is
/// printed and the test is skipped. Uses the programs this test run built (.build/debug,
/// with the toolchain's runtime bound into the container), so it adds no release build.
@Suite struct SystemdContainerTests {
    static let script = Programs.packageRoot.appendingPathComponent("Deploy/systemd-test.sh").path

    /// Why the container cannot run here, or nil when it can.
    static let unavailable: String? = {
        if getuid() != 0 { return "not root" }
        let tools = ["/usr/bin/systemd-nspawn", "/usr/bin/nsenter"]
        if let missing = tools.first(where: { !FileManager.default.isExecutableFile(atPath: $0) }) {
            return "\(missing) is not installed (Deploy/setup-debian.sh installs it)"
        }
        let cache = ProcessInfo.processInfo.environment["COMMUNESYNC_NSPAWN_CACHE"] ?? "/var/cache/communesync/nspawn"
        if !FileManager.default.fileExists(atPath: cache + "/bookworm/.complete")
            && !FileManager.default.isExecutableFile(atPath: "/usr/sbin/debootstrap") {
            return "debootstrap is not installed and no container tree is cached in \(cache)"
        }
        return nil
    }()

    @Test(.enabled(if: unavailable == nil, "systemd container unavailable: \(unavailable ?? "")"))
    func theInstalledServicesBehaveUnderARealSystemd() throws {
        let run = try Programs.runSystem("/bin/bash", [Self.script, "--binaries", Programs.directory.path], timeout: 2400)
        print(run.output)
        if run.status == 77 {
            // The host refused the container after all (say, no permission to boot one).
            print("SystemdContainerTests skipped: \(run.output.split(separator: "\n").last { $0.hasPrefix("SKIP") } ?? "")")
            return
        }
        #expect(run.status == 0, "Deploy/systemd-test.sh failed:\n\(run.output)")
        #expect(run.output.contains("0 failed"))
    }
}
