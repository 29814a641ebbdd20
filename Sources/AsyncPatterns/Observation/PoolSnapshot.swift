/// The cooperative pool's health and what stalled it, as the pool doctor (`PoolDoctor`)
/// measures it in the program: a heartbeat's scheduling delay, jobs enqueued, and the
/// code that held the pool's threads when the heartbeat waited longer than the threshold.
///
/// In a `Snapshot` as `pool` (nil when no doctor runs). Times are nanoseconds.
public struct PoolSnapshot: Sendable, Hashable, Codable {
    /// Heartbeats measured in the window.
    public var beats = 0
    /// The window the delay figures cover, in seconds.
    public var windowSeconds: Double = 0
    /// How late the heartbeat ran (scheduling delay): p50, p99 and max over the window.
    public var delayP50Nanos: UInt64 = 0
    /// The 99th percentile of the delay in the window.
    public var delayP99Nanos: UInt64 = 0
    /// The largest delay in the window.
    public var delayMaxNanos: UInt64 = 0
    /// The last beat's delay.
    public var delayLastNanos: UInt64 = 0
    /// Jobs enqueued on the global executor per second (nil when the hook is off).
    public var jobsPerSecond: Double?
    /// Jobs enqueued since the hook was installed.
    public var jobsEnqueued = 0
    /// The enqueue hook, in words ("off", "counting", "chained to the program's hook (SwiftNIO?)", …).
    public var hook = "off"
    /// Threads of the pool seen in the process.
    public var threads = 0
    /// Threads that were running a job at the last capture (their stack held a job).
    public var busyAtLastCapture = 0
    /// The stall threshold.
    public var thresholdNanos: UInt64 = 100_000_000
    /// Stalls so far (the heartbeat waited at least the threshold).
    public var stalls = 0
    /// Time stalled so far, and the longest stall.
    public var stalledNanos: UInt64 = 0
    /// The longest stall so far.
    public var longestStallNanos: UInt64 = 0
    /// How long the pool has been stalled now (0: not stalled).
    public var stalledNowNanos: UInt64 = 0
    /// Stack capture, in words: "on", or why not ("off (option)", "SIGPROF is the program's", …).
    public var capture = "on"
    /// Whether stacks are captured at stalls.
    public var captureOn = true
    /// The places that held the pool at stalls, most stalled time first.
    public var blockers: [PoolBlocker] = []
    /// Stalls whose place did not fit in `blockers` (the table is bounded) or whose stacks
    /// held none of the program's code.
    public var otherStalls = 0
    /// Recent problems of the doctor ("thread 1234 masks SIGPROF"), newest last.
    public var notes: [String] = []
    /// The doctor's clock when this was read, in seconds since it started.
    public var elapsedSeconds: Double = 0

    /// No figures yet.
    public init() {}
}

/// One place in the program's code that held the pool's threads at stalls.
public struct PoolBlocker: Sendable, Hashable, Codable {
    /// The place: a function name (demangled) or `module+0xoffset` when it has no symbol.
    public var location: String
    /// Stalls during which a pool thread was here.
    public var stalls = 0
    /// Time stalled, summed over those stalls.
    public var totalNanos: UInt64 = 0
    /// The longest of those stalls.
    public var longestNanos: UInt64 = 0
    /// When last seen, on the doctor's clock (seconds since it started).
    public var lastSeenSeconds: Double = 0
    /// The last stack captured here, innermost first, runtime and libc frames marked folded.
    public var frames: [PoolFrame] = []

    /// A blocker at `location`, not yet seen.
    public init(location: String) { self.location = location }

    /// The first frame not folded away: the program's code that was running.
    public var culprit: PoolFrame? { frames.first { !$0.folded } }
}

/// A stall of the cooperative pool, as it ended: what `HealthEvent.poolStall` carries.
public struct PoolStall: Sendable, Hashable, Codable {
    /// How long the pool was stalled, in nanoseconds.
    public var durationNanos: UInt64
    /// Each pool thread caught running the program's own code during the stall (at most
    /// `PoolStall.threadsKept`; one entry per thread and place).
    public var threads: [PoolStallThread]

    /// The threads an event keeps.
    public static let threadsKept = 64

    /// A stall of `durationNanos`, with the threads caught in it.
    public init(durationNanos: UInt64, threads: [PoolStallThread]) {
        self.durationNanos = durationNanos
        self.threads = Array(threads.prefix(Self.threadsKept))
    }
}

/// One thread caught holding the pool during a stall.
public struct PoolStallThread: Sendable, Hashable, Codable {
    /// The kernel's id of the thread (as `top -H` and gdb show it).
    public var thread: Int32
    /// The program's own function that held it: the blocker's name.
    public var place: String
    /// Its stack, innermost first; runtime, libdispatch and libc frames are `folded`.
    public var frames: [PoolFrame]

    /// A thread caught in `place` with `frames`.
    public init(thread: Int32, place: String, frames: [PoolFrame]) {
        self.thread = thread
        self.place = place
        self.frames = frames
    }
}

/// One frame of a captured stack.
public struct PoolFrame: Sendable, Hashable, Codable {
    /// The loaded file the address falls in (the executable or a library), as a path.
    public var module: String
    /// The address minus the module's load address (what `llvm-symbolizer --obj` takes).
    public var offset: UInt64
    /// The function (demangled), when the module's symbol table names it.
    public var symbol: String?
    /// Source file and line, when someone with the debug info filled them in (the viewer).
    public var file: String?
    /// The line in `file`.
    public var line: Int?
    /// A frame of the runtime, libdispatch, libc or the doctor itself: not the program's code.
    public var folded = false

    /// A frame at `offset` in `module`.
    public init(module: String, offset: UInt64, symbol: String? = nil, folded: Bool = false) {
        self.module = module
        self.offset = offset
        self.symbol = symbol
        self.folded = folded
    }
}
