import CMonotonicClock
import Foundation
import Patience
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

@testable import AsyncPatterns

/// The clock behind every event and wait time (issue #23): CLOCK_MONOTONIC read through the
/// TSC. Its policy is a pure step, driven here with a made-up 3 GHz counter.
@Suite struct MonotonicClockTests {
    /// A seeded generator, so a failure repeats.
    struct SplitMix {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let gigahertz3: UInt64 = 3
    static let empty = sluice_clock_state()

    /// The state after a first reading at 0 and a second `nanoseconds` later on a 3 GHz
    /// counter that keeps exact time.
    static func calibrated(after nanoseconds: UInt64 = 10_000_000) -> sluice_clock_state {
        let first = sluice_clock_step(empty, 1_000, 1_000, 40)
        return sluice_clock_step(first, 1_000 + nanoseconds * gigahertz3, 1_000 + nanoseconds, 40)
    }

    /// What a mapping answers for `tsc`, as the header's fast path computes it.
    static func read(_ a: sluice_clock_anchor, at tsc: UInt64) -> UInt64 {
        let product = (tsc - a.tsc).multipliedFullWidth(by: a.scale)
        return a.nanoseconds + (product.high << 32 | product.low >> 32)
    }

    @Test func noMappingUntilTenMillisecondsWereMeasured() {
        let first = sluice_clock_step(Self.empty, 1_000, 1_000, 40)
        #expect(first.anchor.scale == 0 && first.off == 0)
        let early = sluice_clock_step(first, 1_000 + 5_000_000 * 3, 1_000 + 5_000_000, 40)
        #expect(early.anchor.scale == 0)
        let state = Self.calibrated()
        #expect(state.anchor.scale == (1 << 32) / 3)
        #expect(state.anchor.nanoseconds == 10_001_000)
        // Trusted for about a second of ticks.
        #expect((2_999_999_990...3_000_000_010).contains(state.anchor.horizon))
        #expect(Self.read(state.anchor, at: state.anchor.tsc + 300_000_000) - 10_001_000 == 99_999_999)
    }

    @Test func aClockThatRanAheadSlowsDownAndNeverGoesBack() {
        // The kernel's clock runs 200 ppm slower than the rate measured at first.
        var state = Self.calibrated()
        let start = state.anchor
        let ceiling = Self.read(start, at: start.tsc + start.horizon)
        let tsc = start.tsc + start.horizon
        let elapsed = (start.horizon / 3) * (1_000_000 - 200) / 1_000_000
        state = sluice_clock_step(state, tsc, start.nanoseconds + elapsed, 40)
        #expect(state.off == 0)
        // It starts where the old mapping stopped, not where the kernel's clock is.
        #expect(state.anchor.nanoseconds == ceiling)
        #expect(state.anchor.nanoseconds > start.nanoseconds + elapsed)
        // And it is back on the kernel's clock one horizon later (within a nanosecond or two).
        let next = state.anchor
        let kernel = start.nanoseconds + elapsed + (next.horizon / 3) * (1_000_000 - 200) / 1_000_000
        let mine = Self.read(next, at: next.tsc + next.horizon)
        #expect(mine >= kernel - 3 && mine <= kernel + 3, "\(mine) against \(kernel)")
    }

    @Test func aClockThatFellBehindJumpsToTheKernelsClock() {
        var state = Self.calibrated()
        let start = state.anchor
        let tsc = start.tsc + start.horizon
        let kernel = start.nanoseconds + (start.horizon / 3) * (1_000_000 + 200) / 1_000_000
        state = sluice_clock_step(state, tsc, kernel, 40)
        #expect(state.off == 0)
        #expect(state.anchor.nanoseconds == kernel && state.anchor.tsc == tsc)
    }

    @Test func afterAnHourIdleItTakesTheKernelsClockExactly() {
        var state = Self.calibrated()
        let start = state.anchor
        let hour: UInt64 = 3_600_000_000_000
        state = sluice_clock_step(state, start.tsc + hour * 3, start.nanoseconds + hour, 40)
        #expect(state.off == 0)
        #expect(state.anchor.nanoseconds == start.nanoseconds + hour)
    }

    @Test func aCounterBehindByAFewTicksKeepsTheMappingAndMoreIsRefused() {
        let state = Self.calibrated()
        let skewed = sluice_clock_step(state, state.anchor.tsc - 50, state.anchor.nanoseconds + 1, 40)
        #expect(skewed.off == 0 && skewed.anchor.tsc == state.anchor.tsc)
        let back = sluice_clock_step(state, state.anchor.tsc - 10_000_000, state.anchor.nanoseconds + 1, 40)
        #expect(back.off == 1)
    }

    @Test func aRateThatChangesIsRefused() {
        let state = Self.calibrated()
        let a = state.anchor
        // The counter ran at 3.3 GHz over the next second: not a steady TSC.
        let jumped = sluice_clock_step(state, a.tsc + a.horizon, a.nanoseconds + a.horizon * 10 / 33, 40)
        #expect(jumped.off == 1)
        // Nor is a first rate that no TSC has (50 MHz).
        let first = sluice_clock_step(Self.empty, 1_000, 1_000, 1)
        #expect(sluice_clock_step(first, 1_000 + 500_000, 1_000 + 10_000_000, 1).off == 1)
    }

    @Test func aClockFarAheadIsRefused() {
        // A mapping handed out 5 ms more than the kernel's clock moved: broken, not slewed.
        var state = Self.calibrated()
        state.anchor.nanoseconds += 5_000_000
        let a = state.anchor
        #expect(sluice_clock_step(state, a.tsc + a.horizon, a.nanoseconds - 5_000_000 + a.horizon / 3, 40).off == 1)
    }

    @Test func looselyBracketedReadingsDoNotCalibrate() {
        // A first reading whose TSC is known only to within 2 ms of ticks (a preempted
        // thread), then one 10 ms later: 20% of the interval, not a rate.
        let first = sluice_clock_step(Self.empty, 1_000, 1_000, 6_000_000)
        let loose = sluice_clock_step(first, 1_000 + 30_000_000, 1_000 + 10_000_000, 40)
        #expect(loose.anchor.scale == 0 && loose.off == 0)
        // The tighter reading became the start: 10 ms after it, the rate is taken.
        #expect(loose.lastWidth == 40)
        let later = sluice_clock_step(loose, 1_000 + 60_000_000, 1_000 + 20_000_000, 40)
        #expect(later.anchor.scale == (1 << 32) / 3)
        // A reading with no bracket at all (every try came back reversed) is not precise.
        let unbracketed = sluice_clock_step(loose, 1_000 + 60_000_000, 1_000 + 20_000_000, .max)
        #expect(unbracketed.anchor.scale == 0)
    }

    @Test func aLooseRenewalKeepsTheMappingAndTheAnswerNeverFallsBelowIt() {
        var state = Self.calibrated()
        let a = state.anchor
        // The kernel's clock 300 µs behind the mapping at its horizon, read loosely.
        let tsc = a.tsc + a.horizon + 3_000
        let reached = sluice_clock_reached(a, tsc)
        state = sluice_clock_step(state, tsc, reached - 300_000, 60_000)
        #expect(state.off == 0 && state.anchor.tsc == a.tsc)
        #expect(sluice_clock_answer(state.anchor, tsc, reached - 300_000) == reached)
        #expect(sluice_clock_answer(state.anchor, tsc, reached + 5) == reached + 5)
    }

    @Test func aRenewalBeforeTheHorizonIsNotTakenForRunningAhead() {
        // A reader whose counter came back a little (another core's) renews at 60% of the
        // horizon: the mapping has not reached its horizon's end, and must not be judged by it.
        let state = Self.calibrated()
        let a = state.anchor
        let ticks = a.horizon * 6 / 10
        let renewed = sluice_clock_step(state, a.tsc + ticks, a.nanoseconds + ticks / 3, 40)
        #expect(renewed.off == 0)
        #expect(renewed.anchor.tsc == a.tsc + ticks)
        let nanos = Int64(bitPattern: renewed.anchor.nanoseconds &- (a.nanoseconds + ticks / 3))
        #expect(abs(nanos) <= 1)
    }

    @Test func aRenewalAskedForTooSoonChangesNothing() {
        let state = Self.calibrated()
        let a = state.anchor
        let soon = sluice_clock_step(state, a.tsc + a.horizon / 4, a.nanoseconds + a.horizon / 12, 40)
        #expect(soon.anchor.tsc == a.tsc && soon.anchor.nanoseconds == a.nanoseconds && soon.off == 0)
    }

    /// Half an hour of a kernel that slews its clock (its rate moving by up to 0.03% a
    /// step), read at random moments between renewals, some readings loose: whatever the
    /// clock answers never goes back and stays within a millisecond of the kernel's clock.
    @Test func aSlewedKernelClockIsFollowedAndNothingGoesBack() {
        var random = SplitMix(seed: 23)
        var state = Self.calibrated()
        var tsc = state.anchor.tsc
        var kernel = state.anchor.nanoseconds
        var rate = 1.0 / 3  // nanoseconds a tick
        var handedOut: UInt64 = 0
        var renewals = 0
        var declined = false
        for _ in 0..<1_800 {
            rate *= 1 + (Double(random.next() % 601) - 300) / 1e6 * 0.1
            let step = 300_000_000 + random.next() % 4_500_000_000  // 0.1 to 1.6 s of ticks
            func kernelAt(_ tick: UInt64) -> UInt64 { kernel + UInt64(Double(tick - tsc) * rate) }
            func check(_ answer: UInt64, _ now: UInt64) {
                #expect(answer >= handedOut, "went back by \(handedOut - answer) ns")
                #expect(answer <= now + 1_000_000 && answer + 1_000_000 >= now, "\(answer) against \(now)")
                handedOut = max(handedOut, answer)
            }
            for i in 1...8 {
                let at = tsc + step * UInt64(i) / 8
                // A reader at every moment: the mapping's last tick, then the renewal the
                // first read after it makes, as often as the horizon runs out.
                while at - state.anchor.tsc >= state.anchor.horizon {
                    let a = state.anchor
                    // After a loose reading the next try is the next read's.
                    let renewAt = declined ? at : a.tsc + a.horizon
                    if !declined { check(sluice_clock_answer(a, renewAt - 1, kernelAt(renewAt - 1)), kernelAt(renewAt - 1)) }
                    let width: UInt64 = random.next() % 10 == 0 ? 50_000 : 40
                    state = sluice_clock_step(state, renewAt, kernelAt(renewAt), width)
                    #expect(state.off == 0)
                    // What the renewing reader answers.
                    check(sluice_clock_answer(state.anchor, renewAt, kernelAt(renewAt)), kernelAt(renewAt))
                    declined = state.anchor.tsc == a.tsc
                    if declined { break }
                    renewals += 1
                }
                check(sluice_clock_answer(state.anchor, at, kernelAt(at)), kernelAt(at))
            }
            kernel += UInt64(Double(step) * rate)
            tsc += step
        }
        #expect(renewals > 1_000)
    }

    /// Threads reading the events' clock at once: each sees it never go back.
    @Test func eachThreadSeesTheEventsClockGoForward() async {
        let backwards = await withCheckedContinuation { continuation in
            let started = startDetachedThread {
                let count = Mutex(0)
                EventBufferTests.onThreads(4) { _ in
                    var last: UInt64 = 0
                    var back = 0
                    for _ in 0..<200_000 {
                        let now = eventNanoseconds()
                        if now < last { back += 1 }
                        last = now
                    }
                    count.withLock { $0 += back }
                }
                continuation.resume(returning: count.withLock { $0 })
            }
            precondition(started, "could not start a thread")
        }
        #expect(backwards == 0)
    }

    /// The events' clock in this process: between two reads of CLOCK_MONOTONIC either side
    /// of it (within the millisecond the policy allows), and never back, before and after it
    /// has measured the counter.
    @Test func theLiveClockKeepsToClockMonotonic() async throws {
        func kernel() -> UInt64 {
            var t = timespec()
            clock_gettime(CLOCK_MONOTONIC, &t)
            return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
        }
        var last: UInt64 = 0
        func look() {
            let before = kernel()
            let now = eventNanoseconds()
            let after = kernel()
            #expect(now + 1_000_000 >= before && now <= after + 1_000_000, "\(before) \(now) \(after)")
            #expect(now >= last)
            last = now
        }
        try await eventually("the clock decided whether to read the TSC") {
            look()
            return sluice_clock_mode() != 0
        }
        for _ in 0..<10_000 { look() }
        // Where the kernel reads CLOCK_MONOTONIC from the TSC, so does this clock.
        #if arch(x86_64) && os(Linux)
        let source = "/sys/devices/system/clocksource/clocksource0/current_clocksource"
        if let name = try? String(contentsOfFile: source, encoding: .utf8), name == "tsc\n" {
            #expect(sluice_clock_mode() == 1)
        }
        #endif
    }
}
