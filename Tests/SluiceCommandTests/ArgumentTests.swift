import Scenarios
import Testing

@testable import sluice

/// The command line's own parsers, which the end-to-end scripts reach only through whole runs.
@Suite struct ArgumentTests {
    let scenario = SemaphoreScenario()

    @Test func knobsAreReadInEitherFormAndKeptAsNumbers() throws {
        #expect(try parseKnobs([], for: scenario) == [:])
        #expect(
            try parseKnobs(["--permits", "5", "--rate=2.5", "--hold", "60000"], for: scenario) == [
                "permits": 5, "rate": 2.5, "hold": 60_000,
            ])
        #expect(try parseKnobs(["--permits=0"], for: scenario) == ["permits": 0], "the low end of a range is a value")
    }

    @Test(arguments: [
        (["permits"], "unexpected argument 'permits'. Knobs of semaphore: --permits, --rate, --hold, --jobs."),
        (["--"], "unexpected argument '--'. Knobs of semaphore: --permits, --rate, --hold, --jobs."),
        (["--workers", "3"], "unknown option or knob '--workers' for semaphore. Its knobs: --permits, --rate, --hold, --jobs."),
        (["--permits"], "--permits needs a value in 0...256."),
        (["--hold"], "--hold needs a value in 1...60000 ms."),
        (["--permits", "three"], "--permits 'three' is not a number: use a value in 0...256."),
        (["--rate=inf"], "--rate 'inf' is not a number: use a value in 0...10000."),
        (["--rate=nan"], "--rate 'nan' is not a number: use a value in 0...10000."),
        (["--permits", "257"], "--permits 257 is out of range: use 0...256."),
        (["--hold=0"], "--hold 0 is out of range: use 1...60000 ms."),
        (["--permits", "2.5"], "--permits takes a whole number in 0...256, not 2.5."),
    ])
    func badKnobsSayWhatIsWrong(arguments: [String], message: String) {
        #expect {
            try parseKnobs(arguments, for: scenario)
        } throws: { error in
            "\(error)" == message
        }
    }

    @Test(arguments: [
        ("5s", Duration.seconds(5)), ("500ms", .milliseconds(500)), ("2m", .seconds(120)), ("1h", .seconds(3600)),
        ("1.5", .milliseconds(1500)), ("0.001", .milliseconds(1)), ("1ms", .milliseconds(1)), ("24h", .seconds(86_400)),
    ])
    func durationsInEveryUnit(text: String, expected: Duration) {
        #expect(parseDuration(text) == expected)
    }

    @Test(arguments: ["", "s", "5 s", "5sec", "-1s", "0s", "0.4ms", "25h", "86401", "inf", "nan", "1e400", "five"])
    func durationsThatAreNoneAreRefused(text: String) {
        #expect(parseDuration(text) == nil, "'\(text)'")
    }
}
