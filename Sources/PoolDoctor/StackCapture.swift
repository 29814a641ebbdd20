#if canImport(Glibc)
import Glibc
#endif
import CPoolDoctor

/// Captures the stacks of other threads of this process: arms a slot per thread, sends it
/// SIGPROF (the one asynchronous signal libdispatch's workers leave unblocked), and reads
/// what the handler wrote. Runs on the doctor's thread; the handler (C, `capture.c`) only
/// touches atomics and preallocated slots.
public enum StackCapture {
    /// One thread's answer.
    public struct Stack: Sendable {
        /// The thread's kernel id.
        public var tid: Int32
        /// Return addresses, innermost first (the handler's own frames already dropped).
        public var addresses: [UInt]
        /// When the thread's handler took it (monotonic nanoseconds; 0: unknown).
        public var at: UInt64 = 0
    }

    /// What a capture got, and what went wrong on the way (in words, for the report).
    public struct Result: Sendable {
        /// The stacks of the threads that answered.
        public var stacks: [Stack] = []
        /// What went wrong, one sentence each ("thread 123 exited during the capture").
        public var problems: [String] = []
    }

    /// Whether stacks can be captured, and why not.
    public enum Readiness: Equatable, Sendable {
        /// Our SIGPROF handler is installed.
        case ready
        /// Stacks cannot be captured, and why.
        case refused(String)
    }

    /// Installs the handler (once). Refuses when the program handles SIGPROF itself.
    public static func prepare() -> Readiness {
        #if os(Linux)
        switch sluice_capture_prepare() {
        case Int32(SLUICE_PREPARE_OK): return .ready
        case Int32(SLUICE_PREPARE_TAKEN):
            return .refused("SIGPROF is handled by the program (a profiler?); stacks are not captured, figures are")
        default: return .refused("could not install a SIGPROF handler (errno \(errno))")
        }
        #else
        return .refused("stack capture needs Linux")
        #endif
    }

    /// Frames the handler adds at the top of each stack: the handler, then the kernel's
    /// signal trampoline (`__restore_rt`).
    static let handlerFrames = 2

    /// How long to wait for the threads' handlers.
    public static let answerLimit = Duration.milliseconds(50)

    /// Captures the stacks of `tids` (at most `SLUICE_CAPTURE_SLOTS`).
    public static func capture(_ tids: [Int32]) -> Result {
        var result = Result()
        guard sluice_capture_handler_is_ours() == 1 else {
            result.problems.append("the SIGPROF handler is no longer ours (the program replaced it): no capture")
            return result
        }
        let slotCount = Int(SLUICE_CAPTURE_SLOTS)
        var armed: [(slot: Int32, tid: Int32)] = []
        var slot: Int32 = 0
        for tid in tids.prefix(slotCount) {
            if masksSIGPROF(tid) {
                result.problems.append("thread \(tid) blocks SIGPROF: its stack is unknown")
                continue
            }
            while Int(slot) < slotCount, sluice_capture_arm(slot, tid) != 0 { slot += 1 }
            guard Int(slot) < slotCount else { break }
            let rc = sluice_capture_signal(tid)
            if rc != 0 {
                while sluice_capture_release(slot) != 0 { sched_yield() }
                if rc != ESRCH { result.problems.append("thread \(tid): tgkill failed (errno \(rc))") }
                continue
            }
            armed.append((slot, tid))
            slot += 1
        }
        let deadline = ContinuousClock.now + answerLimit
        let spinUntil = ContinuousClock.now + .milliseconds(2)
        var waiting = armed
        var gone: [(slot: Int32, tid: Int32)] = []
        var frames = [UInt](repeating: 0, count: Int(SLUICE_CAPTURE_FRAMES))
        while !waiting.isEmpty {
            waiting.removeAll { entry in
                guard sluice_capture_state(entry.slot) == Int32(SLUICE_SLOT_FILLED) else { return false }
                let n = frames.withUnsafeMutableBufferPointer {
                    Int(sluice_capture_read(entry.slot, $0.baseAddress, Int32($0.count)))
                }
                let at = sluice_capture_time(entry.slot)
                result.stacks.append(Stack(tid: entry.tid, addresses: Array(frames[min(n, handlerFrames)..<n]), at: at))
                while sluice_capture_release(entry.slot) != 0 { sched_yield() }
                return true
            }
            let now = ContinuousClock.now
            if waiting.isEmpty || now >= deadline { break }
            // Handlers answer within microseconds of delivery: yield at first, then sleep,
            // and stop waiting for threads that have exited (their signal died with them).
            if now < spinUntil {
                sched_yield()
            } else {
                usleep(200)
                let exited = waiting.filter { access("/proc/self/task/\($0.tid)", F_OK) != 0 }
                gone += exited
                waiting.removeAll { entry in exited.contains { $0.slot == entry.slot } }
            }
        }
        for entry in waiting + gone {
            let exited = gone.contains { $0.slot == entry.slot }
            // Never answered (it exited, or blocks the signal now): free the slot; a signal
            // still on its way finds no armed slot and does nothing. A handler that was
            // writing is waited for, and what it wrote is kept.
            while sluice_capture_state(entry.slot) == Int32(SLUICE_SLOT_WRITING) { sched_yield() }
            let n = frames.withUnsafeMutableBufferPointer {
                Int(sluice_capture_read(entry.slot, $0.baseAddress, Int32($0.count)))
            }
            let at = sluice_capture_time(entry.slot)
            while sluice_capture_release(entry.slot) != 0 { sched_yield() }
            if n > 0 {
                result.stacks.append(Stack(tid: entry.tid, addresses: Array(frames[min(n, handlerFrames)..<n]), at: at))
            } else {
                result.problems.append(
                    exited
                        ? "thread \(entry.tid) exited during the capture"
                        : "thread \(entry.tid) did not answer within \(answerLimit) (it blocks SIGPROF, or is exiting)")
            }
        }
        return result
    }

    /// Whether a thread of this process blocks SIGPROF (`SigBlk` in its status).
    static func masksSIGPROF(_ tid: Int32) -> Bool {
        guard let status = readSmallFile("/proc/self/task/\(tid)/status") else { return false }
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("SigBlk:") }),
            let mask = UInt64(line.dropFirst(7).trimmingCharacters(in: " \t"), radix: 16)
        else { return false }
        return mask & (1 << UInt64(SIGPROF - 1)) != 0
    }

    /// Threads of this process whose name says they belong to the cooperative pool
    /// (libdispatch's root queue workers, "com.apple.root.default-qos" cut to its last 15
    /// letters), not counting the calling thread.
    /// When SwiftNIO has taken over the global executor (a hook other than ours is in),
    /// jobs run on its singleton event loops ("NIO-SGLTN-…"): those threads are the pool.
    public static func poolThreads() -> [Int32] {
        let me = sluice_gettid()
        let nio = sluice_hook_foreign() == 1
        return threads().filter { $0.tid != me && (isPoolThreadName($0.name) || (nio && $0.name.hasPrefix("NIO-SGLTN-"))) }
            .map(\.tid)
    }

    /// Whether a thread name is a cooperative pool worker's: libdispatch's root queues of
    /// each QoS end in "-qos"; their overcommit twins ("...qos.overcommit") serve serial
    /// queues, the main queue after `dispatch_main`, and are not the pool.
    public static func isPoolThreadName(_ name: String) -> Bool {
        name.hasSuffix("-qos")
    }

    /// This process's threads and their names.
    public static func threads() -> [(tid: Int32, name: String)] {
        guard let dir = opendir("/proc/self/task") else { return [] }
        defer { closedir(dir) }
        var found: [(Int32, String)] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let tid = Int32(name) else { continue }
            let comm = readSmallFile("/proc/self/task/\(tid)/comm")?.trimmingCharacters(in: "\n") ?? ""
            found.append((tid, comm))
        }
        return found
    }

    static func readSmallFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 4096)
        let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { return nil }
        return String(decoding: bytes[..<n], as: UTF8.self)
    }
}

extension Substring {
    func trimmingCharacters(in set: String) -> String {
        String(self.drop { set.contains($0) }.reversed().drop { set.contains($0) }.reversed())
    }
}

extension String {
    func trimmingCharacters(in set: String) -> String { self[...].trimmingCharacters(in: set) }
}
