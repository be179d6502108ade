import Foundation
import Glibc
import Testing
import TestSupport

/// The test suites wait for child processes without trusting Foundation alone to notice that
/// one ended: a missed SIGCHLD once left a whole run waiting for ever on a child long gone.
@Suite struct ProcessesTests {
    @Test func aCommandsExitStatusAndOutputAreItsOwn() throws {
        let done = try Programs.execute("/bin/sh", ["-c", "echo out; echo err >&2; exit 3"], separateErrors: true)
        #expect(done.status == 3 && done.output == "out\n" && done.errors == "err\n")
    }

    @Test func aCommandPastItsDeadlineIsKilledAndTheTestToldSo() {
        let started = Date()
        #expect(throws: (any Error).self) { try Programs.execute("/bin/sleep", ["30"], timeout: 1) }
        #expect(Date().timeIntervalSince(started) < 10)
    }

    /// A child whose end no one signals (as when Foundation misses it) is still found ended,
    /// reaped, and its status read.
    @Test func aChildWhoseEndNobodyAnnouncesIsFoundEndedWithItsStatus() throws {
        var pid: pid_t = 0
        let arguments = ["/bin/sh", "-c", "exit 7"]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        #expect(posix_spawn(&pid, "/bin/sh", nil, nil, &argv, environ) == 0)
        var ending = Programs.Ending(pid: pid, exited: DispatchSemaphore(value: 0)) { -99 }
        let started = Date()
        let ended = ending.wait(until: Date().addingTimeInterval(20))
        #expect(ended)
        #expect(ending.status == 7)
        #expect(Date().timeIntervalSince(started) < 10)
        #expect(Programs.hasEnded(pid), "reaped: no such child any more")
    }
}
