import Foundation
import Testing
import TestSupport

/// syncd's control socket against clients that misbehave: none of them may stop the daemon
/// or keep anyone else from an answer.
@Suite(.serialized) struct ControlSocketTests {
    @Test func clientsThatLeaveEarlyNeitherKillSyncdNorLoseItsAnswerForOthers() throws {
        let cluster = try SyncCluster(label: "socket-leave")
        let commune = try cluster.addCommune("06913")
        try commune.start()
        #expect(eventually { commune.hasUnits })
        for _ in 0..<20 {
            // Connect and close without a word.
            _ = try UnixSocketClient(path: commune.controlSocket)
            // Ask, and leave before the answer: the reply goes to a closed socket (SIGPIPE).
            let asking = try UnixSocketClient(path: commune.controlSocket)
            asking.send("status\n")
        }
        #expect(commune.isRunning, "syncd died: \((try? String(contentsOfFile: commune.log, encoding: .utf8)) ?? "")")
        #expect(try commune.status().json["daemon_running"] as? Bool == true)
    }

    @Test func aClientThatSaysNothingDoesNotBlockStatusForAnyoneElse() throws {
        let cluster = try SyncCluster(label: "socket-silent")
        let commune = try cluster.addCommune("06913")
        try commune.start()
        #expect(eventually { commune.hasUnits })
        let silent = (0..<3).compactMap { _ in try? UnixSocketClient(path: commune.controlSocket) }
        #expect(silent.count == 3)
        // While they hold their connections open, everyone else still gets an answer.
        #expect(try commune.status().json["daemon_running"] as? Bool == true)
        // And the silent ones are let go with nothing (their timeout), not held forever.
        #expect(silent[0].readAll() == "")
    }

    @Test func fortySilentClientsDoNotMakeStatusSayTheDaemonIsDown() throws {
        let cluster = try SyncCluster(label: "socket-forty")
        let commune = try cluster.addCommune("06913")
        try commune.start()
        #expect(eventually { commune.hasUnits })
        let silent = (0..<40).compactMap { _ in try? UnixSocketClient(path: commune.controlSocket) }
        #expect(silent.count == 40)
        for _ in 0..<3 {
            let (status, exitCode) = try commune.status()
            #expect(status["daemon_running"] as? Bool == true && exitCode != 2, "\(status)")
        }
        #expect(commune.isRunning)
        _ = silent
    }

    @Test func onlyRootTheServiceAndItsGroupAreAnswered() throws {
        let cluster = try SyncCluster(label: "socket-peer")
        let commune = try cluster.addCommune("06913")
        try commune.start()
        #expect(eventually { commune.hasUnits })
        // Even if the socket file is opened to everyone, someone outside the group is refused.
        chmod(commune.controlSocket, 0o666)
        chmod(cluster.directory.url.path, 0o711)
        let asked = try Programs.runSystem("/usr/bin/setpriv", [
            "--reuid=nobody", "--regid=nogroup", "--clear-groups", "/usr/bin/python3", "-c",
            // syncd may answer and close before the question is sent: that is not an error here.
            "import socket,sys\ns=socket.socket(socket.AF_UNIX)\ns.connect(sys.argv[1])\ntry:\n s.sendall(b'status\\n')\nexcept OSError:\n pass\nprint(s.recv(4096).decode())",
            commune.controlSocket,
        ])
        #expect(asked.output.contains("not allowed"), "\(asked.output)")
        #expect(!asked.output.contains("startedAt"), "\(asked.output)")
        #expect(try commune.status().json["daemon_running"] as? Bool == true, "root is still answered")
    }

    @Test func aSecondSyncdIsRefusedAndAStoppedOneLeavesNoSocketBehind() throws {
        let cluster = try SyncCluster(label: "socket-second")
        let commune = try cluster.addCommune("06913")
        try commune.start()
        #expect(eventually { commune.hasUnits })
        let second = try Programs.run("syncd", ["--config", commune.config])
        #expect(second.status != 0)
        #expect(second.output.contains("another syncd") && second.output.contains("stop it first"), "\(second.output)")
        #expect(commune.isRunning)
        #expect(try commune.status().json["daemon_running"] as? Bool == true)
        #expect(commune.terminate() == 0)
        #expect(!FileManager.default.fileExists(atPath: commune.controlSocket))
    }
}
