#if canImport(Glibc)
import Glibc
#endif
import AsyncPatterns
import Dashboard
import Terminal

/// The one headless watch: `run`, `attach` and `doctor` watch their source with it, and
/// `run`, `attach` and `replay` print its summary. It runs on the main thread, never on the
/// cooperative pool (a scenario may hold every pool thread in blocking calls).
@MainActor
enum Headless {
    /// How often the watch looks at its source.
    nonisolated static let poll = Duration.milliseconds(20)

    /// Polls `source` until it ends (done, failed, detached), `limit` passes or a signal
    /// comes; `tick` runs at each poll with the time since the start. Returns the signal, if
    /// one came, and how long the watch took.
    nonisolated static func watch(
        _ source: any Source, limit: Duration?, tick: (Duration) -> Void = { _ in }
    ) -> (signal: Int32?, elapsed: Duration) {
        SignalFlag.install()
        let start = ContinuousClock.now
        while source.status == .running || source.status == .paused {
            let now = ContinuousClock.now - start
            tick(now)
            if let signal = SignalFlag.pending { return (signal, now) }
            if let limit, now >= limit { break }
            usleep(UInt32(poll / .microseconds(1)))
        }
        return (nil, ContinuousClock.now - start)
    }

    /// Watches `source` (see `watch`), stops it, ends its recording with what the summary
    /// shows (a replay of the file prints the same), prints the summary and ends the process.
    /// - Parameters:
    ///   - recorder: records `source` (the source itself, not a `RecordingSource` around it).
    ///   - operationsBefore: a program's operations when the watch began.
    ///   - failed: something before the watch failed (a refused `--set`): exit status 1, as
    ///     for a source that failed.
    static func run(
        _ source: any Source, recorder: Recorder?, limit: Duration?, json: Bool, operationsBefore: Int = 0, failed: Bool = false,
        tick: (Duration) -> Void = { _ in }
    ) -> Never {
        let (signal, watched) = watch(source, limit: limit, tick: tick)
        // The status the watch ended on: read before the stop (which ends an attached
        // source's connection); one still running was stopped by the watch, and is done.
        var status = source.status
        if status == .running || status == .paused { status = .done }
        recorder?.sourceWillStop()
        source.stop(waitingAtMost: DashboardApp.stopLimit)
        var final = source.snapshot()
        // File and line of the pool's blockers, if the symbolizer answers in time: the watch
        // must end within a second of its limit.
        final.pool = final.pool.map { Symbolicator.shared.symbolicate($0, waitingAtMost: .milliseconds(300)) }
        let origin = source.origin
        let summary = RunSummary(
            origin: origin, elapsedSeconds: origin.kind == .attached ? watched.seconds : final.elapsedSeconds, status: status,
            snapshot: final, knobs: origin.kind == .attached ? source.knobValues : [:], operationsBefore: operationsBefore)
        if let recorder {
            recorder.finish(status: status, elapsedSeconds: summary.elapsedSeconds, snapshot: summary.snapshot)
            reportRecording(recorder)
        }
        if case .detached(let why) = status, signal == nil {
            // The program ending while watched is an outcome, not a failure to attach (69 is
            // for "nothing to attach to"): the summary covers the time it ran.
            let note =
                "sluice attach: note: \(origin.title) (pid \(origin.pid ?? 0)) went away "
                + "after \(formatDecimal((watched.seconds * 10).rounded() / 10)) s of the watch (\(why)); the summary covers until then"
            end(summary, json: json, signal: nil, failed: failed, warning: note)
        }
        var failedRun = false
        if case .failed = status { failedRun = true }
        end(summary, json: json, signal: signal, failed: failed || failedRun)
    }

    /// Prints `summary` (one JSON object with `json`), then `warning` on stderr, and ends the
    /// process: 128 + the signal after one, 1 when the output failed or `failed`, else 0.
    static func end(_ summary: RunSummary, json: Bool, signal: Int32?, failed: Bool = false, warning: String? = nil) -> Never {
        let output = Output()
        output.line(json ? summary.json.text : summary.text)
        if let warning { printError(warning) }
        if let signal { endProcess(SignalFlag.exitStatus(for: signal)) }
        endProcess(output.failed || failed ? 1 : 0)
    }
}
