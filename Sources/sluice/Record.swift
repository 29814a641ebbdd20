import ArgumentParser
import AsyncPatterns
import Dashboard

/// Where and how much to record (`--record FILE`, `--record-limit SIZE`).
struct RecordOptions: Sendable {
    var path: String
    var limit: Int
    /// `--force`: replace a file already at `path`.
    var replacing = false
}

/// The recording options of `run` (and, once it exists, `attach`).
struct RecordArguments: ParsableArguments {
    @Option(
        name: .customLong("record"), parsing: .unconditional,
        help: ArgumentHelp("Record every event, with keyframes, to this file (replay it with `sluice replay FILE`).", valueName: "file"))
    var path: String?

    @Option(
        name: .customLong("record-limit"), parsing: .unconditional,
        help: "With --record: the file's size limit (e.g. 100MB, 2G); recording ends cleanly there.")
    var limit: String?

    @Flag(help: "With --record: replace a file already there (without it, an existing file is refused).")
    var force = false

    /// The options, or nil without --record. - Throws: a usage error (exit status 64).
    func resolve() throws -> RecordOptions? {
        if limit != nil, path == nil { throw ValidationError("--record-limit goes with --record FILE.") }
        if force, path == nil { throw ValidationError("--force goes with --record FILE.") }
        guard let path else { return nil }
        var bytes = Recorder.defaultLimit
        if let limit {
            guard let parsed = parseByteSize(limit), parsed >= 1 << 20 else {
                throw ValidationError("--record-limit '\(limit)' is not a size of at least 1MB: use e.g. 100MB, 2G.")
            }
            bytes = parsed
        }
        return RecordOptions(path: path, limit: bytes, replacing: force)
    }
}

/// How many events a recorded local source keeps for the recorder between its reads (it
/// reads every millisecond; 262,144 also covers the times it is descheduled for a while).
let recordingLogCapacity = 1 << 18

/// Exit status when the recording cannot be created (BSD sysexits' EX_CANTCREAT).
let cannotCreateStatus: Int32 = 73

/// Wraps `source` in a recording to `options.path`, started; exits with status 73
/// (EX_CANTCREAT) when the file cannot be created (see `Recorder.create`).
func recordedSource(_ source: any Source, _ options: RecordOptions) -> (RecordingSource, Recorder) {
    do {
        let recorder = try Recorder(recording: source, to: options.path, limit: options.limit, replacing: options.replacing)
        recorder.start()
        return (RecordingSource(source, recorder: recorder), recorder)
    } catch {
        source.stop(waitingAtMost: .zero)
        printError("sluice: \(error)")
        endProcess(cannotCreateStatus)
    }
}

/// Says on stderr what was recorded, or why recording ended early.
func reportRecording(_ recorder: Recorder) {
    printError(
        "sluice: "
            + (recorder.message
                ?? "recorded \(recorder.eventsRecorded) events to \(recorder.path) (\(recorder.bytesWritten) bytes, \(recorder.eventsMissed) missed)")
    )
}

extension SourceChoice {
    /// This entry, opening `source` the first time and a fresh source after.
    func openingFirst(_ source: any Source) -> SourceChoice {
        let first = Locked<(any Source)?>(source)
        let open = self.open
        return SourceChoice(name: name, summary: summary, explanation: explanation, knobs: knobs) { values throws(SourceUnavailable) in
            if let source = first.withLock({ f in
                defer { f = nil }
                return f
            }) {
                return source
            }
            return try open(values)
        }
    }
}
