import AsyncPatterns
import Foundation
import Pipelines
import Scenarios
import Testing

/// Tests/e2e/broken-pipelines: each file is wrong in one way; expected.txt names the line and
/// column its first message must point at.
let brokenDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("e2e/broken-pipelines")

@Suite struct PipelineFileTests {
    @Test func everyBrokenFileIsRefusedAtItsLineAndColumn() throws {
        let expected = try String(contentsOf: brokenDirectory.appendingPathComponent("expected.txt"), encoding: .utf8)
            .split(separator: "\n").map { $0.split(separator: " ") }
        #expect(expected.count >= 50)
        for entry in expected {
            let (name, position) = (String(entry[0]), String(entry[1]))
            let path = brokenDirectory.appendingPathComponent(name + ".toml").path
            do {
                _ = try PipelineSpec.load(path: path)
                Issue.record("\(name) was accepted")
            } catch {
                let first = try #require(error.problems.first)
                #expect("\(first.position.line):\(first.position.column)" == position, "\(name): \(error.description)")
                #expect(first.message.count > 20, "\(name): \(first.message)")
                #expect(error.description.hasPrefix("\(path):\(position): "))
            }
        }
    }

    @Test func theExamplesAreValid() throws {
        let examples = brokenDirectory.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Examples/Pipelines")
        let files = try FileManager.default.contentsOfDirectory(atPath: examples.path).filter { $0.hasSuffix(".toml") }
        #expect(files.count >= 3)
        for file in files {
            let spec = try PipelineSpec.load(path: examples.appendingPathComponent(file).path)
            #expect(!spec.knobs.isEmpty, "\(file) has no knobs")
        }
    }

    @Test func aFullFileReadsAsWritten() throws {
        let spec = try PipelineSpec.parse(
            """
            name = "full"  # a comment
            seed_duration = "2.5s"
            [[source]]
            name = "in"
            rate = 1_000
            arrivals = "bursty"
            burst = 10
            items = 20
            to = "q"
            [[queue]]
            name = "q"
            capacity = 64
            low_water = 16
            [[semaphore]]
            name = "db"
            permits = 3
            [[pool]]
            name = "p"
            from = "q"
            workers = 4
            service = { dist = "lognormal", p50 = "20ms", p99 = "200ms" }
            failure = "2%"
            retries = 2
            semaphore = "db"
            to = "out"
            feedback = { to = "q", chance = 0.25 }
            [[actor]]
            name = "out"
            mailbox = 100
            service = { dist = "fixed", value = "300us" }
            [knobs]
            "p.workers" = { min = 1, max = 16 }
            in.rate = [0, 5000]
            p.service = { min = 1, max = 100, step = 1 }
            """, file: "full.toml")
        #expect(spec.name == "full" && spec.seedDuration == 2.5)
        #expect(spec.sources[0].rate == 1000 && spec.sources[0].arrivals == .bursty(size: 10) && spec.sources[0].items == 20)
        #expect(spec.queues[0].lowWater == 16)
        let p = spec.pools[0]
        #expect(p.service == .logNormal(p50: 0.02, p99: 0.2) && p.failure == 0.02 && p.retries == 2 && p.semaphore == "db")
        #expect(p.feedback?.to == "q" && p.feedback?.chance == 0.25)
        #expect(spec.actors[0].service == .fixed(0.0003) && spec.actors[0].to.isEmpty)
        #expect(spec.knobs.map(\.name) == ["p.workers", "in.rate", "p.service"])
        #expect(spec.knobs[2].value == 20 && spec.knobs[2].spec.unit == "ms")
    }

    /// A log-normal by p50 and p99: the median and 99th percentile of many draws are the
    /// ones given, and the mean and SCV are the closed forms.
    @Test func logNormalDrawsHaveTheGivenPercentiles() {
        let d = ServiceTime.logNormal(p50: 0.02, p99: 0.2)
        var rng = SystemRandomNumberGenerator()
        var draws = (0..<200_000).map { _ in
            d.sample(Double.random(in: Double.ulpOfOne...1, using: &rng), Double.random(in: 0...1, using: &rng))
        }
        draws.sort()
        #expect(abs(draws[100_000] / 0.02 - 1) < 0.03)
        #expect(abs(draws[198_000] / 0.2 - 1) < 0.06)
        let mean = draws.reduce(0, +) / Double(draws.count)
        #expect(abs(mean / d.mean - 1) < 0.03)
    }

    /// Hostile text: deep nesting, and 3,000 random mutations of the examples (a character
    /// deleted, duplicated or replaced), each parsed to an answer, never a crash or a hang.
    @Test func hostileTextGetsAnAnswer() throws {
        #expect(throws: PipelineFileError.self) {
            try PipelineSpec.parse("a = " + String(repeating: "[", count: 100_000), file: "deep.toml")
        }
        #expect(throws: PipelineFileError.self) {
            try PipelineSpec.parse("a = " + String(repeating: "{b = ", count: 100_000), file: "deep.toml")
        }
        let examples = brokenDirectory.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Examples/Pipelines")
        let texts = try ["chat.toml", "crawler.toml", "thumbnails.toml"].map {
            Array(try String(contentsOf: examples.appendingPathComponent($0), encoding: .utf8).unicodeScalars)
        }
        let alphabet = Array("[]{}=\"',.#\n 0123456789abz_-".unicodeScalars)
        var rng = SplitMix64(seed: 24)
        var refused = 0
        for i in 0..<3000 {
            var text = texts[i % texts.count]
            let at = Int(rng.next() % UInt64(text.count))
            switch rng.next() % 3 {
            case 0: text.remove(at: at)
            case 1: text.insert(text[at], at: at)
            default: text[at] = alphabet[Int(rng.next() % UInt64(alphabet.count))]
            }
            var s = ""
            s.unicodeScalars.append(contentsOf: text)
            do { _ = try PipelineSpec.parse(s, file: "m.toml") } catch {
                refused += 1
                #expect(!error.problems.isEmpty && error.problems.allSatisfy { $0.position.line >= 1 && $0.position.column >= 1 })
            }
        }
        #expect(refused > 500)
    }
}
