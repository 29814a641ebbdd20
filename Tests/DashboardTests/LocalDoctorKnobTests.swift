import AsyncPatterns
import PoolDoctor
import Scenarios
import TestSupport
import Testing

@testable import Dashboard

/// A scenario run in the dashboard has the pool doctor's threshold among its knobs, as an
/// attached program does (issue #21: "a knob in the dashboard").
@Suite struct LocalDoctorKnobTests {
    @Test func theThresholdIsAKnobOfEveryLocalRunWithADoctor() async throws {
        try await withTestExecutor { executor in
            let doctor = PoolDoctor(
                options: .init(threshold: .milliseconds(100), capture: false, hook: false, executor: executor), registry: nil)
            defer { doctor.stop() }
            let source = LocalSource(SemaphoreScenario(), speed: 5, executor: executor, doctor: doctor)
            let name = PoolDoctor.thresholdKnob.name
            #expect(source.knobs.last?.name == name)
            #expect(source.knobValues[name] == 100)
            #expect(source.setKnob(name, to: 250) == .applied(250))
            #expect(doctor.stallThreshold == .milliseconds(250))
            #expect(source.setKnob(name, to: 1e9) == .applied(10_000))
            #expect(source.knobValues[name] == 10_000)
            let plain = LocalSource(SemaphoreScenario(), speed: 5, executor: executor)
            #expect(!plain.knobs.contains { $0.name == name })
            // Awaited, not waited for: the test's thread is the shared pool's.
            await source.run.stop()
            await plain.run.stop()
        }
    }
}
