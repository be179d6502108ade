import Foundation
@testable import HubCore
@testable import HubHTTP
@testable import HubPostgres
@testable import HubSQLite
@testable import ReviewDesk
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SyncProtocol
import Testing
import TestSupport

/// `/metrics` as Prometheus and the dashboard and alert rules in `Deploy/monitoring/` expect
/// it: read back through a parser of the text format, not by searching for strings.
@Suite struct MetricsConventionTests {
    /// The hub's page after a few requests that succeed and fail, parsed.
    static func exposition() async throws -> MetricsExposition {
        /// The page, carried out of the test client's closure.
        actor Page { var text = ""; func keep(_ text: String) { self.text = text } }
        let bench = try await HubHTTPTests.Bench()
        let page = Page()
        try await bench.test { client in
            // The office says what it holds, as syncd does with every pull.
            var said = HubHTTPTests.headers(bench.communeA)
            said[HTTPField.Name(OfficeFacts.header)!] = OfficeFacts(
                version: "1.0", unsent: 3, oldestUnsentS: 7_200, refusedRows: 1, clockOffsetS: -75, freeDiskBytes: 5 << 30,
                rulesVersion: 1, lastError: "hub unreachable").headerValue
            _ = try await client.execute(uri: "/v1/pull?after=0&limit=3", method: .get, headers: said)
            _ = try await client.execute(uri: "/v1/pull?after=0", method: .get, headers: HubHTTPTests.headers(nil))
            _ = try await client.execute(uri: "/v1/conflicts", method: .get, headers: HubHTTPTests.headers(bench.reviewer))
            let response = try await client.execute(uri: "/metrics", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
            await page.keep(String(buffer: response.body))
        }
        return try MetricsExposition(await page.text)
    }

    @Test func everySampleBelongsToATypedFamilyWithHelpAndEveryCounterEndsInTotal() async throws {
        let metrics = try await Self.exposition()
        for sample in metrics.samples {
            #expect(metrics.family(of: sample) != nil, "no # TYPE for \(sample)")
        }
        for (family, type) in metrics.types {
            #expect(metrics.helps[family] != nil, "\(family) has no # HELP")
            #expect(["counter", "gauge", "histogram"].contains(type), "\(family) is a \(type)")
            #expect((type == "counter") == family.hasSuffix("_total"), "\(family) is a \(type): only counters end in _total")
            #expect(family.hasPrefix("communesync_") || family.hasPrefix("process_"), "\(family) is outside the project's namespace")
        }
    }

    @Test func aUnixTimeIsNamedTimestampSeconds() async throws {
        let metrics = try await Self.exposition()
        let seen = metrics.samples(named: "communesync_hub_replica_last_seen_timestamp_seconds")
        #expect(Set(seen.map { $0.labels }) == [["replica": "11111", "role": "commune"], ["replica": "reviewer1", "role": "reviewer"]],
                "only those that presented a credential: \(seen)")
        let now = Date().timeIntervalSince1970
        #expect(seen.allSatisfy { abs($0.value - now) < 600 }, "\(seen)")
        // Any other value in seconds that reads as a date since 2001 is a Unix time too; the one
        // exception is the name every Prometheus client gives the process's start.
        for sample in metrics.samples where sample.name.hasSuffix("_seconds") && sample.value > 1e9 {
            #expect(sample.name.hasSuffix("_timestamp_seconds") || sample.name == "process_start_time_seconds", "\(sample)")
        }
    }

    @Test func requestDurationsAreAHistogramByRoutePattern() async throws {
        let metrics = try await Self.exposition()
        let family = "communesync_hub_request_duration_seconds"
        #expect(metrics.types[family] == "histogram")
        let buckets = metrics.samples(named: family + "_bucket")
        let routes = Set(buckets.compactMap { $0.labels["route"] })
        #expect(routes == ["/v1/pull", "/v1/conflicts"], "\(routes)")
        #expect(buckets.allSatisfy { Set($0.labels.keys) == ["route", "le"] }, "\(buckets)")
        let counts = metrics.samples(named: family + "_count")
        let pulls = try #require(counts.first { $0.labels["route"] == "/v1/pull" })
        // Both pulls, the one refused too; the +Inf bucket holds every request.
        #expect(pulls.value == 2)
        #expect(buckets.first { $0.labels == ["route": "/v1/pull", "le": "+Inf"] }?.value == 2)
        let sum = try #require(metrics.samples(named: family + "_sum").first { $0.labels["route"] == "/v1/pull" })
        #expect(sum.value >= 0 && sum.value < 60)
    }

    @Test func theBuildAndTheProcessAreDescribed() async throws {
        let metrics = try await Self.exposition()
        let build = metrics.samples(named: "communesync_build_info")
        #expect(build.count == 1 && build.first?.value == 1, "\(build)")
        #expect(build.first?.labels["version"] == Release.version)
        #expect(metrics.types["communesync_build_info"] == "gauge")

        #expect(metrics.types["process_cpu_seconds_total"] == "counter")
        for gauge in ["process_resident_memory_bytes", "process_virtual_memory_bytes", "process_open_fds", "process_max_fds",
                      "process_start_time_seconds"] {
            #expect(metrics.types[gauge] == "gauge", "\(gauge)")
            #expect((metrics.samples(named: gauge).first?.value ?? 0) > 0, "\(gauge)")
        }
        let started = try #require(metrics.samples(named: "process_start_time_seconds").first).value
        // This test process started before the test, and not before the machine did.
        #expect(started <= Date().timeIntervalSince1970 + 1 && started > Date().timeIntervalSince1970 - 86_400 * 365, "\(started)")
    }
}

extension MetricsConventionTests {
    /// What an office said of itself with its pull is served per office (the figures alerts
    /// on unsent changes, clocks and disks read), with only the office as label.
    @Test func whatEachOfficeSaidIsServedPerOffice() async throws {
        let metrics = try await Self.exposition()
        func value(_ name: String) -> Double? {
            let samples = metrics.samples(named: "communesync_hub_office_" + name)
            #expect(samples.allSatisfy { $0.labels == ["replica": "11111"] }, "\(samples)")
            return samples.first?.value
        }
        #expect(value("unsent_changes") == 3 && value("oldest_unsent_seconds") == 7_200 && value("refused_rows") == 1)
        #expect(value("clock_offset_seconds") == -75 && value("free_disk_bytes") == Double(5 << 30) && value("round_failing") == 1)
        let said = try #require(value("facts_timestamp_seconds"))
        #expect(abs(said - Date().timeIntervalSince1970) < 600)
    }

    /// The alert rules and the dashboard in `Deploy/monitoring/` read only series the hub
    /// serves: a renamed metric fails here, not silently on a district's wall.
    @Test func theAlertRulesAndTheDashboardNameOnlySeriesTheHubServes() async throws {
        let metrics = try await Self.exposition()
        let served = Set(metrics.samples.compactMap { metrics.family(of: $0) }).union(metrics.types.keys)
        let directory = Programs.packageRoot.appendingPathComponent("Deploy/monitoring")
        for file in ["communesync.rules.yml", "communesync-hub.dashboard.json"] {
            let text = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            let named = Set(text.matches(of: /\b(?:communesync|process)_[a-z_]+/).map { String($0.output) })
            #expect(!named.isEmpty, "\(file) names no series")
            for series in named {
                let family = ["_bucket", "_sum", "_count"].first { series.hasSuffix($0) && metrics.types[String(series.dropLast($0.count))] == "histogram" }
                    .map { String(series.dropLast($0.count)) } ?? series
                #expect(served.contains(family), "\(file) names \(series), which /metrics does not serve")
            }
        }
    }
}

extension MetricsConventionTests {
    /// proc(5): the command name may hold spaces and parentheses, so fields are counted from
    /// the last `)`; utime, stime, starttime, vsize and rss are fields 14, 15, 22, 23 and 24.
    @Test func theProcessFiguresAreReadFromTheRightFieldsOfStat() throws {
        let line = "4242 (sync hub) x) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 8 0 123456 563818496 11608 18446744073709551615 1"
        let stat = try #require(ProcessStat(line))
        #expect(stat.userTicks == 250 && stat.systemTicks == 50)
        #expect(stat.startTicks == 123456)
        #expect(stat.virtualBytes == 563818496 && stat.residentPages == 11608)
        #expect(ProcessStat("4242 (synchub) S 1 4242") == nil, "a line cut short is not read as zeros")
    }
}
