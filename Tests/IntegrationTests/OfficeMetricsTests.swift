import Foundation
import Testing
import TestSupport

/// syncd's figures for node_exporter's textfile collector (`metrics_textfile`): written after
/// every round, in the exposition format promtool accepts, saying what `syncctl status` says.
@Suite struct OfficeMetricsTests {
    /// The value of `name{replica="06913"}` in the file, if the series is there.
    static func value(_ text: String, _ name: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(name + "{") }.flatMap { $0.split(separator: " ").last }.flatMap { Double($0) }
    }

    @Test func theOfficeWritesWhatStatusJudgesForNodeExporter() throws {
        let cluster = try SyncCluster(label: "office-metrics")
        let commune = try cluster.addCommune("06913", interval: 0.3)
        let file = cluster.directory.path("node-exporter/communesync.prom")
        try FileManager.default.createDirectory(atPath: cluster.directory.path("node-exporter"), withIntermediateDirectories: true)
        let config = try String(contentsOfFile: commune.config, encoding: .utf8)
        try ("metrics_textfile = \"\(file)\"\n" + config).write(toFile: commune.config, atomically: true, encoding: .utf8)
        try commune.start()
        let read = { (try? String(contentsOfFile: file, encoding: .utf8)) ?? "" }
        #expect(eventually { Self.value(read(), "communesync_office_last_round_timestamp_seconds") != nil
            && Self.value(read(), "communesync_office_hub_reachable") == 1 }, "\(read())")
        let healthy = read()
        #expect(healthy.contains(#"communesync_build_info{replica="06913",version=""#), "\(healthy)")
        #expect(Self.value(healthy, "communesync_office_needs_attention") == 0 && Self.value(healthy, "communesync_office_round_failing") == 0)
        #expect(Self.value(healthy, "communesync_office_unsent_changes") == 0 && Self.value(healthy, "communesync_office_oldest_unsent_age_seconds") == nil)
        #expect((Self.value(healthy, "communesync_office_disk_free_bytes") ?? 0) > 0 && (Self.value(healthy, "communesync_office_data_file_bytes") ?? 0) > 0)
        // The office alert rules name only series syncd writes.
        let rules = try String(contentsOfFile: Programs.packageRoot.appendingPathComponent("Deploy/monitoring/communesync-office.rules.yml").path,
                               encoding: .utf8)
        let named = Set(rules.matches(of: /communesync_office_[a-z_]+/).map { String($0.output) })
        #expect(named.count >= 2)
        for name in named { #expect(healthy.contains("\n\(name){"), "\(name) is in the rules but not in the file") }
        let promtool = "/usr/bin/promtool"
        try #require(FileManager.default.isExecutableFile(atPath: promtool), "promtool is not installed (Deploy/setup-debian.sh installs prometheus)")
        let checked = try Programs.runSystem("/bin/sh", ["-c", "\(promtool) check metrics < '\(file)'"])
        #expect(checked.status == 0, "promtool: \(checked.output)")

        // The hub gone and a row written meanwhile: the file says so while the hub cannot.
        cluster.hub.stop()
        try SQLiteShell.run(commune.database, "INSERT INTO persons(id, commune_id, full_name) VALUES ('p-m', 'unit-06913', 'Đo đếm');")
        #expect(eventually {
            let text = read()
            return Self.value(text, "communesync_office_hub_reachable") == 0 && Self.value(text, "communesync_office_round_failing") == 1
                && Self.value(text, "communesync_office_unsent_rows") == 1 && (Self.value(text, "communesync_office_unsent_changes") ?? 0) > 1 && Self.value(text, "communesync_office_needs_attention") == 1
                && Self.value(text, "communesync_office_oldest_unsent_age_seconds") != nil
        }, "\(read())")
        #expect((Self.value(read(), "communesync_office_consecutive_failures") ?? 0) >= 1)
        let beside = try FileManager.default.contentsOfDirectory(atPath: cluster.directory.path("node-exporter"))
        #expect(beside == ["communesync.prom"], "written whole, by rename: no half-written file left beside it: \(beside)")
        #expect(commune.terminate() == 0)
    }

    @Test func aTextfileThatNodeExporterWouldNotReadIsRefusedAtStart() throws {
        let cluster = try SyncCluster(label: "office-metrics-name")
        let commune = try cluster.addCommune("06913", interval: 0.3)
        let config = try String(contentsOfFile: commune.config, encoding: .utf8)
        try ("metrics_textfile = \"\(cluster.directory.path("communesync.txt"))\"\n" + config).write(toFile: commune.config, atomically: true, encoding: .utf8)
        let run = try Programs.run("syncctl", ["status", "--config", commune.config])
        #expect(run.status == 3 && run.output.contains("must end in .prom"), "\(run.output)")
    }
}
