import AsyncPatterns
import Testing

@testable import PoolDoctor

/// Folding and aggregation against fixed stacks: no tasks, no threads, no signals.
@Suite struct FoldingTests {
    static let exe = "/app/.build/debug/indexer"
    static let libc = "/lib/x86_64-linux-gnu/libc.so.6"
    static let concurrency = "/opt/swift/usr/lib/swift/linux/libswift_Concurrency.so"
    static let dispatch = "/opt/swift/usr/lib/swift/linux/libdispatch.so"

    /// A pool thread in `usleep`, called from the program's closure, run by the runtime.
    static let sleeping: [PoolFrame] = Folding.fold([
        PoolFrame(module: libc, offset: 0xe5f35, symbol: "clock_nanosleep"),
        PoolFrame(module: libc, offset: 0xea8a6, symbol: "__nanosleep"),
        PoolFrame(module: libc, offset: 0x11b2c9, symbol: "usleep"),
        PoolFrame(module: exe, offset: 0x41_2000, symbol: "(1) suspend resume partial function for closure #1 in Blocking.run()"),
        PoolFrame(module: concurrency, offset: 0x71e5f, symbol: "_ZN5swift34runJobInEstablishedExecutorContextEPNS_3JobE"),
        PoolFrame(module: concurrency, offset: 0x72b14, symbol: "swift_job_run"),
        PoolFrame(module: dispatch, offset: 0x2c087, symbol: "_dispatch_continuation_pop"),
        PoolFrame(module: dispatch, offset: 0x35194, symbol: "_dispatch_worker_thread"),
        PoolFrame(module: libc, offset: 0x891f4),
    ])

    /// An idle pool thread: waiting for work inside libdispatch.
    static let idle: [PoolFrame] = Folding.fold([
        PoolFrame(module: libc, offset: 0x10, symbol: "syscall"),
        PoolFrame(module: dispatch, offset: 0x3000, symbol: "_dispatch_sema4_timedwait"),
        PoolFrame(module: dispatch, offset: 0x35194, symbol: "_dispatch_worker_thread"),
    ])

    @Test func runtimeDispatchAndLibcFold() {
        #expect(Self.sleeping.map(\.folded) == [true, true, true, false, true, true, true, true, true])
        #expect(Self.idle.allSatisfy { $0.folded })
    }

    @Test func theCulpritIsTheFirstFrameOfTheProgram() throws {
        let place = try #require(Folding.location(of: Self.sleeping, functionStart: { _ in 0x41_1f00 }))
        #expect(place.name == "(1) suspend resume partial function for closure #1 in Blocking.run()")
        #expect(place.key == "\(Self.exe)+\(0x41_1f00)")
        #expect(Folding.location(of: Self.idle, functionStart: { _ in nil }) == nil)
    }

    @Test func compilerGlueAndSpecializedStandardLibraryFold() {
        #expect(Folding.isFolded(module: Self.exe, symbol: "reabstraction thunk helper from ..."))
        #expect(Folding.isFolded(module: Self.exe, symbol: "partial apply for closure #2 in f()"))
        #expect(Folding.isFolded(module: Self.exe, symbol: "Swift.Array.subscript.read : (Swift.Int) -> A"))
        #expect(
            Folding.isFolded(
                module: Self.exe, symbol: "generic specialization <Swift.Range<Swift.Int>> of Swift.IndexingIterator.next() -> A?"))
        #expect(!Folding.isFolded(module: Self.exe, symbol: "generic specialization <Swift.Int> of MyApp.hash<A>(A) -> Swift.UInt64"))
        #expect(!Folding.isFolded(module: Self.exe, symbol: "MyApp.hashFile(Swift.String) -> Swift.UInt64"))
        // ThreadSanitizer's runtime, linked into the program, calls our handler from its own.
        #expect(
            Folding.isFolded(
                module: Self.exe, symbol: "_ZN6__tsanL21CallUserSignalHandlerEPNS_11ThreadStateEbbiPN11__sanitizer19__sanitizer_siginfoEPv")
        )
        #expect(Folding.isFolded(module: Self.exe, symbol: "_Z10sighandleriPN11__sanitizer19__sanitizer_siginfoEPv"))
        #expect(!Folding.isFolded(module: "/usr/lib/libcrypto.so.3", symbol: "SHA256_Update"))
    }

    @Test func noSymbolNamesTheFileAndOffset() throws {
        let frames = Folding.fold([PoolFrame(module: Self.exe, offset: 0x1234)])
        let place = try #require(Folding.location(of: frames, functionStart: { _ in nil }))
        #expect(place.name == "indexer+0x1234")
    }
}

@Suite struct BlockerTableTests {
    static func place(_ name: String) -> (key: String, name: String, frames: [PoolFrame]) {
        (name, name, [PoolFrame(module: "/app", offset: 1, symbol: name)])
    }

    @Test func stallsAddUpByPlaceMostTimeFirst() {
        var table = BlockerTable(capacity: 4, ageOut: 10)
        table.record(stallNanos: 200_000_000, places: [Self.place("a"), Self.place("b")], now: 1)
        table.record(stallNanos: 300_000_000, places: [Self.place("b")], now: 2)
        table.record(stallNanos: 100_000_000, places: [Self.place("a"), Self.place("a")], now: 3)
        let b = table.blockers
        #expect(b.map(\.location) == ["b", "a"])
        #expect(b[0].stalls == 2 && b[0].totalNanos == 500_000_000 && b[0].longestNanos == 300_000_000 && b[0].lastSeenSeconds == 2)
        // Two threads at one place in one stall count one stall there.
        #expect(b[1].stalls == 2 && b[1].totalNanos == 300_000_000)
        #expect(table.otherStalls == 0)
    }

    @Test func theTableIsBoundedAndCountsTheRest() {
        var table = BlockerTable(capacity: 2, ageOut: 100)
        for (i, name) in ["a", "b", "c", "d"].enumerated() {
            table.record(stallNanos: 100_000_000, places: [Self.place(name)], now: Double(i))
        }
        #expect(table.blockers.count == 2)
        #expect(table.otherStalls == 2)
        table.record(stallNanos: 100_000_000, places: [], now: 5)
        #expect(table.otherStalls == 3, "a stall with no program code on any stack is counted elsewhere")
    }

    @Test func placesAgeOut() {
        var table = BlockerTable(capacity: 4, ageOut: 10)
        table.record(stallNanos: 100_000_000, places: [Self.place("old")], now: 0)
        table.record(stallNanos: 100_000_000, places: [Self.place("new")], now: 9)
        table.forgetOld(now: 10.5)
        #expect(table.blockers.map(\.location) == ["new"])
        table.forgetOld(now: 19.5)
        #expect(table.blockers.isEmpty)
    }
}

@Suite struct StallDetectorTests {
    let ms: UInt64 = 1_000_000

    @Test func aBeatDueLongerThanTheThresholdIsAStallCapturedOnceThenAgainEachSecond() {
        var d = StallDetector(threshold: 100 * ms, recaptureEvery: 1_000 * ms)
        #expect(d.tick(now: 50 * ms, due: 40 * ms, lastDue: 0, lastLag: 0) == .none)
        #expect(d.tick(now: 139 * ms, due: 40 * ms, lastDue: 0, lastLag: 0) == .none)
        #expect(d.tick(now: 140 * ms, due: 40 * ms, lastDue: 0, lastLag: 0) == .capture)
        #expect(d.stalledSince == 40 * ms)
        #expect(d.tick(now: 600 * ms, due: 40 * ms, lastDue: 0, lastLag: 0) == .none)
        #expect(d.tick(now: 1_140 * ms, due: 40 * ms, lastDue: 0, lastLag: 0) == .capture)
        // The beat ran 1.2 s late; the next one waits.
        #expect(d.tick(now: 1_250 * ms, due: 1_290 * ms, lastDue: 40 * ms, lastLag: 1_200 * ms) == .ended(nanos: 1_200 * ms))
        #expect(d.stalledSince == nil)
        #expect(d.tick(now: 1_300 * ms, due: 1_290 * ms, lastDue: 40 * ms, lastLag: 1_200 * ms) == .none)
    }

    /// `sluice doctor --threshold 500ms` while a stall found at 100 ms goes on: it ended at
    /// 175 ms, no stall by the rule now in force. One that passes the new threshold counts.
    @Test func aThresholdRaisedDuringAStallDecidesAtItsEnd() {
        var d = StallDetector(threshold: 100 * ms)
        #expect(d.tick(now: 150 * ms, due: 40 * ms, lastDue: 0, lastLag: 0) == .capture)
        d.setThreshold(500 * ms)
        #expect(d.tick(now: 220 * ms, due: 260 * ms, lastDue: 40 * ms, lastLag: 175 * ms) == .dismissed(nanos: 175 * ms))
        #expect(d.stalledSince == nil)
        #expect(d.tick(now: 700 * ms, due: 260 * ms, lastDue: 40 * ms, lastLag: 175 * ms) == .none)
        #expect(d.tick(now: 760 * ms, due: 260 * ms, lastDue: 40 * ms, lastLag: 175 * ms) == .capture)
        #expect(d.tick(now: 900 * ms, due: 950 * ms, lastDue: 260 * ms, lastLag: 620 * ms) == .ended(nanos: 620 * ms))

        var lowered = StallDetector(threshold: 500 * ms)
        #expect(lowered.tick(now: 600 * ms, due: 40 * ms, lastDue: 0, lastLag: 0) == .capture)
        lowered.setThreshold(100 * ms)
        #expect(lowered.tick(now: 700 * ms, due: 750 * ms, lastDue: 40 * ms, lastLag: 610 * ms) == .ended(nanos: 610 * ms))
    }

    @Test func noBeatWaitingIsNoStall() {
        var d = StallDetector(threshold: 100 * ms)
        #expect(d.tick(now: 10_000 * ms, due: nil, lastDue: 0, lastLag: 0) == .none)
    }

    @Test func aStallThatEndedUnseenIsMeasuredFromItsDueTime() {
        var d = StallDetector(threshold: 100 * ms)
        #expect(d.tick(now: 200 * ms, due: 50 * ms, lastDue: 0, lastLag: 0) == .capture)
        // Another beat (not the stalled one) is the last that ran: the length is measured.
        #expect(d.tick(now: 400 * ms, due: nil, lastDue: 10 * ms, lastLag: 0) == .ended(nanos: 350 * ms))
    }
}

@Suite struct LateCaptureTests {
    let ms: UInt64 = 1_000_000

    func stalled() -> StallDetector {
        var d = StallDetector(threshold: 100 * ms)
        #expect(d.tick(now: 200 * ms, due: 50 * ms, lastDue: 0, lastLag: 0) == .capture)
        return d
    }

    @Test func whileTheStalledBeatStillWaitsEveryStackShowsTheStall() {
        #expect(stalled().shows(stackTakenAt: 210 * ms, due: 50 * ms, lastDue: 0, lastLag: 0))
        #expect(!StallDetector(threshold: 100 * ms).shows(stackTakenAt: 210 * ms, due: 50 * ms, lastDue: 0, lastLag: 0))
    }

    /// The stalled beat ran at 50 + 180 = 230 ms (a capture's signal can end the blocking
    /// call itself: a stack taken before is the blocker's).
    @Test func afterTheBeatRanOnlyStacksTakenBeforeItCount() {
        let d = stalled()
        #expect(d.shows(stackTakenAt: 229 * ms, due: nil, lastDue: 50 * ms, lastLag: 180 * ms))
        #expect(!d.shows(stackTakenAt: 231 * ms, due: nil, lastDue: 50 * ms, lastLag: 180 * ms))
        #expect(!d.shows(stackTakenAt: 231 * ms, due: 280 * ms, lastDue: 50 * ms, lastLag: 180 * ms))
    }

    /// A later beat ran as well: when the stall ended is no longer known.
    @Test func afterALaterBeatNoStackCounts() {
        #expect(!stalled().shows(stackTakenAt: 210 * ms, due: 330 * ms, lastDue: 280 * ms, lastLag: 0))
    }
}
