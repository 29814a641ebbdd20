import AsyncPatterns
import Testing
import TUI

@testable import Dashboard

/// The theory pane and the Health warning it feeds, over hand-made models.
@Suite struct TheoryPaneTests {
    func model(_ name: String, rate: Double, servers: Int, predicted: Double?) -> QueueModelSnapshot {
        var m = QueueModelSnapshot(name: name, servers: servers)
        m.model = predicted == nil ? "G/G/c ca²=2 cs²=0" : "M/M/c"
        m.arrivalRate = rate
        m.serviceRate = 10
        m.utilization = rate / (10 * Double(servers))
        m.measuredWaitSeconds = 0.0123
        m.measuredDepth = 1.2
        m.littleDepth = rate * 0.0123
        m.predictedWaitSeconds = predicted
        m.predictedDepth = predicted.map { rate * $0 }
        m.serversForStability = Int(rate / 10) + 1
        return m
    }

    @Test func rowsShowMeasurementBesideTheory() {
        let pane = TheoryPane(
            models: [model("jobs", rate: 32, servers: 4, predicted: 0.011), model("slow", rate: 50, servers: 4, predicted: nil)],
            glyphs: .ascii)
        let lines = pane.rendered(width: 100, height: TheoryPane.height(for: pane.models)).lines
        #expect(lines.count == 6)
        #expect(lines[1].contains("queue") && lines[1].contains("λ/s") && lines[1].contains("ρ") && lines[1].contains("λ·W"))
        #expect(lines[2].contains("jobs") && lines[2].contains("32") && lines[2].contains("0.80") && lines[2].contains("12.3ms"))
        #expect(lines[2].contains("11ms") && lines[2].contains("M/M/c"))
        #expect(lines[3].contains("slow") && lines[3].contains("1.25") && lines[3].contains("∞"))
        #expect(lines[4].contains("Little's law"))
        // Too small an area draws what fits and never traps.
        _ = pane.rendered(width: 10, height: 3)
    }

    @Test func healthSaysAnUnstableQueueGrowsWithoutBound() {
        var snap = Snapshot()
        snap.queueModels = [model("jobs", rate: 32, servers: 4, predicted: 0.011), model("slow", rate: 50, servers: 4, predicted: nil)]
        let texts = warnings(for: snap, history: DashboardHistory()).map(\.text)
        #expect(texts == ["slow grows without bound: ρ = 1.25 ≥ 1 with c = 4; the smallest c with ρ < 1 is 6"])
        #expect(warnings(for: Snapshot(), history: DashboardHistory()).isEmpty)
    }
}
