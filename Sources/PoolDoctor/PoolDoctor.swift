#if canImport(Glibc)
import Glibc
#endif
import AsyncPatterns
import CPoolDoctor
import Synchronization

/// Watches the cooperative pool of the process it runs in, and names the code that stalls it.
///
/// A heartbeat task on the pool measures its scheduling delay; a watchdog on a thread of
/// its own notices when the heartbeat has waited for `threshold`, captures the stacks of
/// the pool's threads (SIGPROF, see `StackCapture`), folds runtime frames away and adds the
/// stall to a bounded table of top blockers. Optionally, the runtime's global-enqueue hook
/// counts jobs. `snapshot()` reads it all as a `PoolSnapshot`; the agent sends it to viewers.
///
/// Costs the program one short job per `interval` and a thread that wakes every few
/// milliseconds; a capture costs each pool thread a few tens of microseconds.
public final class PoolDoctor: Sendable {
    /// What the doctor does; the agent passes these through.
    public struct Options: Sendable {
        /// How long the heartbeat may wait before the pool counts as stalled.
        public var threshold: Duration
        /// Whether stacks are captured at stalls (off: the figures only).
        public var capture: Bool
        /// Whether the global-enqueue hook may be installed (`installHook()`) to count jobs.
        public var hook: Bool
        /// Time between heartbeats.
        public var interval: Duration
        /// Beats the delay percentiles cover.
        public var window: Int
        /// Places the top-blocker table keeps; and how long one stays unseen before it goes.
        public var blockers: Int
        /// Seconds a blocker stays listed after it was last seen.
        public var ageOut: Double
        /// Where the heartbeat runs (nil: the global executor, the cooperative pool).
        public var executor: (any TaskExecutor)?
        /// Which threads to capture (nil: the pool's, found by name).
        public var threads: (@Sendable () -> [Int32])?

        /// The defaults: 100 ms threshold (as asyncio's debug mode), capture and hook on.
        public init(
            threshold: Duration = .milliseconds(100), capture: Bool = true, hook: Bool = true, interval: Duration = .milliseconds(50),
            window: Int = 200, blockers: Int = 16, ageOut: Double = 10, executor: (any TaskExecutor)? = nil,
            threads: (@Sendable () -> [Int32])? = nil
        ) {
            self.threshold = threshold
            self.capture = capture
            self.hook = hook
            self.interval = interval
            self.window = window
            self.blockers = blockers
            self.ageOut = ageOut
            self.executor = executor
            self.threads = threads
        }
    }

    struct State: Sendable {
        var delays: [UInt64] = []
        var next = 0
        var beats = 0
        var table: BlockerTable
        var stalls = 0
        var stalledNanos: UInt64 = 0
        var longest: UInt64 = 0
        var notes: [String] = []
        var capture = "on"
        var captureOn = true
        var threads = 0
        var busy = 0
        var jobsPerSecond: Double?
        var jobs = 0
        var stalledSince: UInt64?
        /// Where the pool's threads were at the captures of the stall going on now.
        var current: [(key: String, name: String, frames: [PoolFrame])] = []
        var captures = 0
        var captureNanos: UInt64 = 0
        var symbolizeNanos: UInt64 = 0
        var warmNanos: UInt64 = 0
        var lateStacks = 0
    }

    /// The options it runs with.
    public let options: Options
    let registry: PatternRegistry?
    let state: Locked<State>
    /// The heartbeat's current deadline (monotonic ns; 0: none waiting), and the last beat's.
    let due = Atomic<UInt64>(0)
    let lastDue = Atomic<UInt64>(0)
    let lastLag = Atomic<UInt64>(0)
    let running = Atomic<Bool>(true)
    let heartbeat = Locked<Task<Void, Never>?>(nil)
    let hookInstalled = Atomic<Bool>(false)
    let started = monotonicNow()
    let threshold: Atomic<UInt64>

    /// Starts the heartbeat and the watchdog. `registry`: where stall notes go (events).
    public init(options: Options = Options(), registry: PatternRegistry? = .shared) {
        precondition(options.threshold > .zero && options.interval > .zero, "PoolDoctor needs a positive threshold and interval")
        self.options = options
        self.registry = registry
        threshold = Atomic(options.threshold.nanoseconds)
        var s = State(table: BlockerTable(capacity: max(1, options.blockers), ageOut: options.ageOut))
        if !options.capture {
            s.capture = "off (option)"
            s.captureOn = false
        }
        state = Locked(s)
        startHeartbeat()
        let started = startDetachedThread { [weak self] in Self.watch { [weak self] in self } }
        if !started { note("no thread for the watchdog: stalls are not detected") }
    }

    /// Stops the heartbeat and the watchdog, and removes the hook if it is still ours.
    public func stop() {
        guard running.exchange(false, ordering: .acquiringAndReleasing) else { return }
        heartbeat.withLock { $0?.cancel() }
        if hookInstalled.exchange(false, ordering: .acquiringAndReleasing) { HookUsers.release() }
    }

    deinit { stop() }

    /// Installs the global-enqueue hook to count jobs (once; unless the options say no). The
    /// agent calls it when a viewer first watches: a program that asks SwiftNIO to take over
    /// the global executor does so at start, and NIO refuses when a hook is already there.
    public func installHook() {
        guard options.hook, running.load(ordering: .relaxed), !hookInstalled.exchange(true, ordering: .acquiringAndReleasing)
        else { return }
        let outcome = HookUsers.acquire()
        if outcome == Int32(SLUICE_HOOK_CHAINED) {
            note("the global executor already had an enqueue hook (SwiftNIO's?): ours counts jobs and calls it")
        }
    }

    /// The stall threshold as a knob, in milliseconds: the agent offers it to viewers, and
    /// the dashboard shows it beside a local scenario's knobs.
    public static let thresholdKnob = KnobSpec(
        "pool-threshold", unit: "ms", range: 10...10_000, step: 10, default: 100, actsOn: .health,
        "how long the pool may stall before its threads are captured")

    /// How long the heartbeat may wait before the pool counts as stalled.
    public var stallThreshold: Duration { .nanoseconds(Int64(threshold.load(ordering: .relaxed))) }

    /// Changes the stall threshold (from the next stall on); at least 1 ms.
    public func setStallThreshold(_ value: Duration) {
        threshold.store(max(1_000_000, value.nanoseconds), ordering: .relaxed)
    }

    /// Takes the hook out again (the last viewer left): a program nobody watches pays nothing
    /// per job. `installHook()` puts it back.
    public func removeHook() {
        if hookInstalled.exchange(false, ordering: .acquiringAndReleasing) { HookUsers.release() }
        state.withLock { $0.jobsPerSecond = nil }
    }

    /// The figures now.
    public func snapshot() -> PoolSnapshot {
        let now = monotonicNow()
        let elapsed = Double(now - started) / 1e9
        var p = PoolSnapshot()
        p.thresholdNanos = threshold.load(ordering: .relaxed)
        p.delayLastNanos = lastLag.load(ordering: .relaxed)
        p.hook = hookWords()
        p.elapsedSeconds = elapsed
        let pending = due.load(ordering: .relaxed)
        state.withLock { s in
            s.table.forgetOld(now: elapsed)
            let sorted = s.delays.sorted()
            p.beats = s.beats
            p.windowSeconds = Double(sorted.count) * options.interval.seconds
            if !sorted.isEmpty {
                p.delayP50Nanos = sorted[(sorted.count - 1) / 2]
                p.delayP99Nanos = sorted[min(sorted.count - 1, Int((Double(sorted.count) * 0.99).rounded(.up)) - 1)]
                p.delayMaxNanos = sorted[sorted.count - 1]
            }
            p.jobsPerSecond = s.jobsPerSecond
            p.jobsEnqueued = s.jobs
            p.threads = s.threads
            p.busyAtLastCapture = s.busy
            p.stalls = s.stalls
            p.stalledNanos = s.stalledNanos
            p.longestStallNanos = s.longest
            // A stall found under a threshold since raised shows once it passes the new one.
            if let since = s.stalledSince, pending == since, now > since, now - since >= threshold.load(ordering: .relaxed) {
                p.stalledNowNanos = now - since
            }
            p.capture = s.capture
            p.captureOn = s.captureOn
            if p.stalledNowNanos > 0, !s.current.isEmpty {
                // The stall going on is named now, not when it ends: as if it ended now.
                var table = s.table
                table.record(stallNanos: p.stalledNowNanos, places: s.current, now: elapsed)
                p.blockers = table.blockers
            } else {
                p.blockers = s.table.blockers
            }
            p.otherStalls = s.table.otherStalls
            p.notes = s.notes
        }
        return p
    }

    /// Captures so far and the CPU time of the doctor's thread they took: signalling and
    /// collecting the stacks, then turning them into frames (for `make bench`); and the
    /// one-time reading of the executable's symbol table at start.
    public var captureCost: (captures: Int, nanos: UInt64, symbolizeNanos: UInt64, warmNanos: UInt64) {
        state.withLock { ($0.captures, $0.captureNanos, $0.symbolizeNanos, $0.warmNanos) }
    }

    /// Stacks left out because the stall had ended when they were taken (the watchdog looked
    /// late): they would name what ran after the stall.
    public var lateStacks: Int { state.withLock { $0.lateStacks } }

    // MARK: - Heartbeat

    private func startHeartbeat() {
        let interval = options.interval
        let body: @Sendable () async -> Void = { [weak self] in
            while let doctor = self, doctor.running.load(ordering: .relaxed), !Task.isCancelled {
                let deadline = monotonicNow() + interval.nanoseconds
                doctor.due.store(deadline, ordering: .relaxed)
                do { try await Task.sleep(for: interval) } catch { break }
                let lag = monotonicNow() &- deadline
                let lagged = Int64(bitPattern: lag) < 0 ? 0 : lag
                // Due cleared, lag, due: `lastBeat()` never pairs one beat's due with
                // another's lag.
                doctor.lastDue.store(0, ordering: .sequentiallyConsistent)
                doctor.lastLag.store(lagged, ordering: .sequentiallyConsistent)
                doctor.lastDue.store(deadline, ordering: .sequentiallyConsistent)
                doctor.due.store(0, ordering: .relaxed)
                doctor.beat(lagged)
            }
        }
        let task: Task<Void, Never>
        if let executor = options.executor {
            task = Task(executorPreference: executor, operation: body)
        } else {
            task = Task.detached(operation: body)
        }
        heartbeat.withLock { $0 = task }
    }

    private func beat(_ lag: UInt64) {
        let window = max(1, options.window)
        state.withLock { s in
            s.beats += 1
            if s.delays.count < window {
                s.delays.append(lag)
            } else {
                s.delays[s.next] = lag
                s.next = (s.next + 1) % window
            }
        }
    }

    // MARK: - Watchdog (its own thread)

    /// The watchdog's own state, kept on its thread between ticks.
    final class Watch {
        var detector: StallDetector
        let symbolizer = Symbolizer()
        var episode: [(thread: Int32, key: String, name: String, frames: [PoolFrame])] = []
        var lastCount = (at: monotonicNow(), jobs: sluice_hook_enqueued())
        var nextThreads: UInt64 = 0
        init(threshold: UInt64) { detector = StallDetector(threshold: threshold) }
    }

    /// The watchdog's thread: holds the doctor only for a tick, so a doctor nobody keeps
    /// any more is deinitialized (and stopped) rather than watched forever.
    private static func watch(_ weakDoctor: @escaping @Sendable () -> PoolDoctor?) {
        // Named, so that it is not taken for a pool thread (a thread inherits its creator's name).
        sluice_name_this_thread("sluice-doctor")
        guard let watch = weakDoctor()?.startWatch() else { return }
        while true {
            let pause: UInt64
            do {
                guard let doctor = weakDoctor(), doctor.running.load(ordering: .relaxed) else { return }
                pause = doctor.tick(watch)
            }
            usleep(useconds_t(pause))
        }
    }

    private func startWatch() -> Watch {
        let watch = Watch(threshold: threshold.load(ordering: .relaxed))
        // The executable's symbol table is read now, off the stall path: a capture then
        // costs the host little (the table is the big read, once).
        if options.capture {
            let before = threadCPUNanos()
            watch.symbolizer.warm()
            let spent = threadCPUNanos() &- before
            state.withLock { $0.warmNanos = spent }
        }
        return watch
    }

    /// One tick of the watchdog; returns the microseconds to sleep until the next: a fifth
    /// of the threshold (2...20 ms), so a stall is seen at most that late.
    private func tick(_ w: Watch) -> UInt64 {
        let wanted = threshold.load(ordering: .relaxed)
        if wanted != w.detector.threshold { w.detector.setThreshold(wanted) }
        let now = monotonicNow()
        if now >= w.nextThreads {
            let count = (options.threads ?? StackCapture.poolThreads)().count
            state.withLock { $0.threads = count }
            w.nextThreads = now + 2_000_000_000
        }
        if hookInstalled.load(ordering: .relaxed), now - w.lastCount.at >= 1_000_000_000 {
            let jobs = sluice_hook_enqueued()
            let rate = Double(jobs &- w.lastCount.jobs) / (Double(now - w.lastCount.at) / 1e9)
            state.withLock {
                $0.jobsPerSecond = rate
                $0.jobs = Int(clamping: jobs)
            }
            w.lastCount = (now, jobs)
        }
        let beat = lastBeat()
        switch w.detector.tick(now: now, due: beat.due, lastDue: beat.lastDue, lastLag: beat.lastLag) {
        case .none: break
        case .capture:
            let since = w.detector.stalledSince
            state.withLock { $0.stalledSince = since }
            let (captured, beat) = captureNow(w.symbolizer)
            let kept = captured.filter {
                w.detector.shows(stackTakenAt: $0.at, due: beat.due, lastDue: beat.lastDue, lastLag: beat.lastLag)
            }
            if kept.count < captured.count { state.withLock { $0.lateStacks += captured.count - kept.count } }
            w.episode += kept.map { (thread: $0.thread, key: $0.key, name: $0.name, frames: $0.frames) }
            let places = w.episode.map { (key: $0.key, name: $0.name, frames: $0.frames) }
            state.withLock { $0.current = places }
        case .dismissed:
            w.episode = []
            state.withLock { s in
                s.stalledSince = nil
                s.current = []
            }
        case .ended(let nanos):
            let at = Double(monotonicNow() - started) / 1e9
            let places = w.episode
            w.episode = []
            state.withLock { s in
                s.stalledSince = nil
                s.current = []
                s.stalls += 1
                s.stalledNanos += nanos
                s.longest = max(s.longest, nanos)
                s.table.record(stallNanos: nanos, places: places.map { (key: $0.key, name: $0.name, frames: $0.frames) }, now: at)
            }
            // One entry per thread and place: a long stall is captured again every second.
            var seen = Set<String>()
            let threads = places.filter { seen.insert("\($0.thread) \($0.key)").inserted }.map {
                PoolStallThread(thread: $0.thread, place: $0.name, frames: $0.frames)
            }
            registry?.poolStall(PoolStall(durationNanos: nanos, threads: threads), from: "pool")
        }
        return max(2_000, min(20_000, w.detector.threshold / 5_000))
    }

    /// The heartbeat as the watchdog judges a capture by: the beat waiting now, and the last
    /// that ran (its due time and lag, of one beat).
    /// Tries a few times while the heartbeat is writing; then says no beat is known to have
    /// run (the stacks are left out rather than judged by a mixed pair).
    private func lastBeat() -> (due: UInt64?, lastDue: UInt64, lastLag: UInt64) {
        var pending: UInt64 = 0
        for _ in 0..<100 {
            let before = lastDue.load(ordering: .sequentiallyConsistent)
            let lag = lastLag.load(ordering: .sequentiallyConsistent)
            pending = due.load(ordering: .sequentiallyConsistent)
            if before == lastDue.load(ordering: .sequentiallyConsistent), before != 0 || lag == 0 {
                return (pending == 0 ? nil : pending, before, lag)
            }
            sched_yield()
        }
        return (pending == 0 ? nil : pending, 0, 0)
    }

    /// One capture of the pool's threads, folded into places (none when capture is off),
    /// and the heartbeat read as soon as the stacks are in: before symbolizing, so that on a
    /// loaded machine a later beat is less likely to have run and made the stall's end
    /// unknown.
    private func captureNow(
        _ symbolizer: Symbolizer
    ) -> (
        places: [(thread: Int32, key: String, name: String, frames: [PoolFrame], at: UInt64)],
        beat: (due: UInt64?, lastDue: UInt64, lastLag: UInt64)
    ) {
        guard state.withLock({ $0.captureOn }) else { return ([], lastBeat()) }
        if case .refused(let why) = StackCapture.prepare() {
            state.withLock {
                $0.captureOn = false
                $0.capture = why
            }
            note(why)
            return ([], lastBeat())
        }
        let cpuBefore = threadCPUNanos()
        let tids = (options.threads ?? StackCapture.poolThreads)()
        let result = StackCapture.capture(tids)
        let beat = lastBeat()
        let captured = threadCPUNanos()
        var places: [(thread: Int32, key: String, name: String, frames: [PoolFrame], at: UInt64)] = []
        for stack in result.stacks {
            let frames = symbolizer.frames(stack.addresses)
            if let place = Folding.location(of: frames, functionStart: symbolizer.functionStart) {
                places.append((stack.tid, place.key, place.name, Array(frames.prefix(PoolDoctor.framesKept)), stack.at))
            }
        }
        let symbolized = threadCPUNanos()
        state.withLock {
            $0.busy = places.count
            $0.captures += 1
            $0.captureNanos += captured &- cpuBefore
            $0.symbolizeNanos += symbolized &- captured
        }
        for problem in result.problems { note(problem) }
        if !result.problems.isEmpty, result.problems.contains(where: { $0.contains("no longer ours") }) {
            state.withLock {
                $0.captureOn = false
                $0.capture = "off: the program replaced the SIGPROF handler"
            }
        }
        return (places, beat)
    }

    /// Frames kept per blocker (innermost first).
    static let framesKept = 32
    /// Notes kept.
    static let notesKept = 8

    private func note(_ text: String) {
        state.withLock { s in
            guard s.notes.last != text else { return }
            s.notes.append(text)
            if s.notes.count > Self.notesKept { s.notes.removeFirst(s.notes.count - Self.notesKept) }
        }
    }

    private func hookWords() -> String {
        guard options.hook else { return "off (option)" }
        guard hookInstalled.load(ordering: .relaxed) else { return "not installed (installed while someone watches)" }
        switch sluice_hook_state() {
        case Int32(SLUICE_HOOK_ALONE): return "counting"
        case Int32(SLUICE_HOOK_CHAINED): return "counting, chained to the program's hook (SwiftNIO's executor?)"
        case Int32(SLUICE_HOOK_REPLACED): return "replaced by the program's hook after ours (jobs count only what reaches ours)"
        case Int32(SLUICE_HOOK_UNAVAILABLE): return "unavailable (no swift_task_enqueueGlobal_hook in this runtime)"
        default: return "off"
        }
    }
}

/// Doctors sharing the one process-wide hook: installed with the first, removed with the last.
enum HookUsers {
    static let users = Locked(0)

    static func acquire() -> Int32 {
        users.withLock { n in
            n += 1
            return n == 1 ? sluice_hook_install() : sluice_hook_state()
        }
    }

    static func release() {
        users.withLock { n in
            n -= 1
            if n == 0 { sluice_hook_uninstall() }
        }
    }
}

func monotonicNow() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

func threadCPUNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

extension Duration {
    /// Whole nanoseconds, clamped at zero.
    var nanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        guard seconds >= 0, attoseconds >= 0 else { return 0 }
        return UInt64(seconds) &* 1_000_000_000 &+ UInt64(attoseconds / 1_000_000_000)
    }

    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

extension PoolDoctor {
    /// What one capture costs the process, in microseconds of CPU (all threads: the
    /// capturing one and the handler on the captured one), measured on a thread of its own
    /// that sleeps in `usleep` as a blocking call would; stacks turned into frames and
    /// folded as at a stall (`make bench`).
    @_spi(Benchmarks) public static func measureCaptureCost(captures: Int) -> (micros: Double, frames: Int)? {
        guard StackCapture.prepare() == .ready else { return nil }
        let tid = Atomic<Int32>(0)
        let running = Atomic<Bool>(true)
        let started = startDetachedThread {
            tid.store(sluice_gettid(), ordering: .relaxed)
            while running.load(ordering: .relaxed) { usleep(1_000) }
        }
        guard started else { return nil }
        defer { running.store(false, ordering: .relaxed) }
        while tid.load(ordering: .relaxed) == 0 { usleep(1_000) }
        let symbolizer = Symbolizer()
        symbolizer.warm()
        var frames = 0
        let before = processCPUNanos()
        for _ in 0..<max(1, captures) {
            for stack in StackCapture.capture([tid.load(ordering: .relaxed)]).stacks {
                let folded = symbolizer.frames(stack.addresses)
                frames += folded.count
                _ = Folding.location(of: folded, functionStart: symbolizer.functionStart)
            }
        }
        return (Double(processCPUNanos() &- before) / 1e3 / Double(max(1, captures)), frames / max(1, captures))
    }
}

func processCPUNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}
