import AsyncPatterns

/// Event codes: the low 7 bits of an event's tag byte; bit 7 marks the onset of a warning.
public enum EventCodec {
    /// Set in a tag where a warning starts (recordings mark onsets; lists never).
    public static let warningBit: UInt8 = 0x80

    /// Writes one event: its tag (code and `tagBits`), `delta` (its time minus the time
    /// before it), `pattern` (its index in a table of names), then its values.
    public static func encode(_ event: PatternEvent, into w: inout WireWriter, tagBits: UInt8, pattern: UInt64, delta: Int64) {
        func tag(_ code: UInt8) {
            w.byte(code | tagBits)
            w.signed(delta)
            w.uint(pattern)
        }
        func q(_ g: QueueGauges) {
            w.int(g.depth)
            w.int(g.waitingProducers)
            w.int(g.waitingConsumers)
        }
        func s(_ g: SemaphoreGauges) {
            w.int(g.limit)
            w.int(g.inUse)
            w.int(g.waiting)
        }
        func total(_ t: Int?) { w.uint(t.map { UInt64(max(0, $0)) + 1 } ?? 0) }
        switch event {
        case .queue(let e, _, _):
            switch e {
            case .put(let g):
                tag(1)
                q(g)
            case .got(let g):
                tag(2)
                q(g)
            case .producerBlocked(let g):
                tag(3)
                q(g)
            case .consumerBlocked(let g):
                tag(4)
                q(g)
            case .waiterAbandoned(let g, let producer):
                tag(producer ? 6 : 5)
                q(g)
            case .taskDone(let u):
                tag(7)
                w.int(u)
            case .capacityChanged(let c, let g):
                tag(8)
                w.int(c)
                q(g)
            case .closed(let g):
                tag(9)
                q(g)
            }
        case .semaphore(let e, _, _):
            switch e {
            case .acquired(let g):
                tag(16)
                s(g)
            case .released(let g):
                tag(17)
                s(g)
            case .waiting(let g):
                tag(18)
                s(g)
            case .waiterAbandoned(let g):
                tag(19)
                s(g)
            case .limitChanged(let g):
                tag(20)
                s(g)
            }
        case .actor(let e, _, _):
            switch e {
            case .enqueued(let d):
                tag(32)
                w.int(d)
            case .processed(let d):
                tag(33)
                w.int(d)
            case .deadLetter(let to, let reason):
                tag(34)
                w.string(to)
                let reasonCode: UInt8 =
                    switch reason {
                    case .unknownRecipient: 0
                    case .stopped: 1
                    case .mailboxFull: 2
                    case .senderCancelled: 3
                    }
                w.byte(reasonCode)
            case .senderBlocked(let d):
                tag(35)
                w.int(d)
            case .started: tag(36)
            case .stopped(let u):
                tag(37)
                w.int(u)
            case .failed(let d):
                tag(38)
                w.int(d)
            }
        case .stream(let e, _, _):
            switch e {
            case .produced(let n, let t):
                tag(48)
                w.int(n)
                total(t)
            case .consumed(let n, let t):
                tag(49)
                w.int(n)
                total(t)
            case .finished(let n):
                tag(50)
                w.int(n)
            case .failed(let n):
                tag(51)
                w.int(n)
            case .stoppedEarly(let n):
                tag(52)
                w.int(n)
            }
        case .resource(let e, _, _):
            switch e {
            case .opening: tag(64)
            case .opened(let ns):
                tag(65)
                w.uint(ns)
            case .closing: tag(66)
            case .closed(let ns, let failed):
                tag(failed ? 68 : 67)
                w.uint(ns)
            case .openFailed: tag(69)
            case .timed(let ns):
                tag(70)
                w.uint(ns)
            }
        case .health(let e, _, _):
            switch e {
            case .loopLag(let ns):
                tag(80)
                w.uint(ns)
            case .note(let text):
                tag(81)
                w.string(text)
            case .poolStall(let stall):
                // Rare and rich (threads and their frames): its JSON, as a string.
                tag(82)
                poolStall(stall, into: &w)
            }
        }
    }

    /// The kind of pattern an event code belongs to (nil: not a code).
    public static func kind(of code: UInt8) -> PatternKind? {
        switch code {
        case 1...9: .queue
        case 16...20: .semaphore
        case 32...38: .actor
        case 48...52: .stream
        case 64...70: .resource
        case 80...82: .health
        default: nil
        }
    }

    /// Decodes the payload of an event whose tag (without the warning bit) is `code`.
    public static func decode(_ code: UInt8, _ r: inout WireReader, source: PatternID, at: MonotonicInstant) throws(WireError)
        -> PatternEvent
    {
        func q() throws(WireError) -> QueueGauges {
            QueueGauges(depth: try r.int(), waitingProducers: try r.int(), waitingConsumers: try r.int())
        }
        func s() throws(WireError) -> SemaphoreGauges {
            SemaphoreGauges(limit: try r.int(), inUse: try r.int(), waiting: try r.int())
        }
        func total() throws(WireError) -> Int? {
            let v = try r.uint()
            guard v <= UInt64(WireReader.largestInt) + 1 else { throw .badMessage("a stream's total of \(v - 1)") }
            return v == 0 ? nil : Int(v - 1)
        }
        switch code {
        case 1: return .queue(.put(gauges: try q()), source: source, at: at)
        case 2: return .queue(.got(gauges: try q()), source: source, at: at)
        case 3: return .queue(.producerBlocked(gauges: try q()), source: source, at: at)
        case 4: return .queue(.consumerBlocked(gauges: try q()), source: source, at: at)
        case 5, 6: return .queue(.waiterAbandoned(gauges: try q(), producer: code == 6), source: source, at: at)
        case 7: return .queue(.taskDone(unfinished: try r.int()), source: source, at: at)
        case 8:
            let c = try r.int()
            return .queue(.capacityChanged(capacity: c, gauges: try q()), source: source, at: at)
        case 9: return .queue(.closed(gauges: try q()), source: source, at: at)
        case 16: return .semaphore(.acquired(gauges: try s()), source: source, at: at)
        case 17: return .semaphore(.released(gauges: try s()), source: source, at: at)
        case 18: return .semaphore(.waiting(gauges: try s()), source: source, at: at)
        case 19: return .semaphore(.waiterAbandoned(gauges: try s()), source: source, at: at)
        case 20: return .semaphore(.limitChanged(gauges: try s()), source: source, at: at)
        case 32: return .actor(.enqueued(depth: try r.int()), source: source, at: at)
        case 33: return .actor(.processed(depth: try r.int()), source: source, at: at)
        case 34:
            let to = try r.string()
            let reasons: [DeadLetterReason] = [.unknownRecipient, .stopped, .mailboxFull, .senderCancelled]
            let b = Int(try r.byte())
            guard b < reasons.count else { throw .badMessage("unknown dead letter reason \(b)") }
            return .actor(.deadLetter(to: to, reason: reasons[b]), source: source, at: at)
        case 35: return .actor(.senderBlocked(depth: try r.int()), source: source, at: at)
        case 36: return .actor(.started, source: source, at: at)
        case 37: return .actor(.stopped(unprocessed: try r.int()), source: source, at: at)
        case 38: return .actor(.failed(depth: try r.int()), source: source, at: at)
        case 48:
            let n = try r.int()
            return .stream(.produced(count: n, total: try total()), source: source, at: at)
        case 49:
            let n = try r.int()
            return .stream(.consumed(count: n, total: try total()), source: source, at: at)
        case 50: return .stream(.finished(count: try r.int()), source: source, at: at)
        case 51: return .stream(.failed(count: try r.int()), source: source, at: at)
        case 52: return .stream(.stoppedEarly(count: try r.int()), source: source, at: at)
        case 64: return .resource(.opening, source: source, at: at)
        case 65: return .resource(.opened(openNanos: try r.uint()), source: source, at: at)
        case 66: return .resource(.closing, source: source, at: at)
        case 67, 68: return .resource(.closed(heldNanos: try r.uint(), bodyFailed: code == 68), source: source, at: at)
        case 69: return .resource(.openFailed, source: source, at: at)
        case 70: return .resource(.timed(nanos: try r.uint()), source: source, at: at)
        case 80: return .health(.loopLag(lagNanos: try r.uint()), source: source, at: at)
        case 81: return .health(.note(text: try r.string()), source: source, at: at)
        case 82: return .health(.poolStall(stall: try poolStall(&r)), source: source, at: at)
        default: throw .badMessage("unknown event code \(code)")
        }
    }
}

extension EventCodec {
    /// The code an event is written with (its tag without the warning bit).
    public static func code(of event: PatternEvent) -> UInt8 {
        var w = WireWriter()
        encode(event, into: &w, tagBits: 0, pattern: 0, delta: 0)
        return w.bytes[0]
    }

    /// Reads one event as `encode` wrote it: `time` is the time before it (nanoseconds
    /// after `start`) and becomes its own; `names` is the table its pattern index points
    /// into. Returns the event and whether its tag marks a warning's onset.
    public static func decodeEntry(_ r: inout WireReader, names: [PatternID], time: inout Int64, start: UInt64) throws(WireError) -> (
        event: PatternEvent, onset: Bool
    ) {
        let tag = try r.byte()
        let code = tag & ~warningBit
        time = time &+ (try r.signed())
        let id = try r.uint()
        guard id < UInt64(names.count) else { throw .badMessage("an event names an unknown pattern") }
        let source = names[Int(id)]
        guard kind(of: code) == source.kind else { throw .badMessage("an event of the wrong kind") }
        let event = try decode(code, &r, source: source, at: MonotonicInstant(nanoseconds: start &+ UInt64(bitPattern: time)))
        return (event, tag & warningBit != 0)
    }

    /// A list of events, as snapshots and `events` messages carry them: the patterns they
    /// name (a count, then each one's kind byte and name), then the events (a count, then
    /// each as `encode` writes it, its time relative to the one before, the first's to 0).
    public static func writeList(_ events: [PatternEvent], into w: inout WireWriter) {
        var ids: [PatternID: UInt64] = [:]
        var table: [PatternID] = []
        for e in events where ids[e.source] == nil {
            ids[e.source] = UInt64(table.count)
            table.append(e.source)
        }
        w.count(table.count)
        for id in table {
            w.byte(UInt8(PatternKind.allCases.firstIndex(of: id.kind)!))
            w.string(id.name)
        }
        w.count(events.count)
        var last: Int64 = 0
        for e in events {
            let t = Int64(bitPattern: e.at.nanoseconds)
            encode(e, into: &w, tagBits: 0, pattern: ids[e.source]!, delta: t &- last)
            last = t
        }
    }

    /// Reads what `writeList` wrote; an event before the clock's start is refused.
    public static func readList(_ r: inout WireReader) throws(WireError) -> [PatternEvent] {
        var names: [PatternID] = []
        for _ in 0..<(try r.count()) { names.append(try patternID(&r)) }
        var events: [PatternEvent] = []
        let n = try r.count()
        events.reserveCapacity(n)
        var time: Int64 = 0
        for _ in 0..<n {
            events.append(try decodeEntry(&r, names: names, time: &time, start: 0).event)
            guard time >= 0 else { throw .badMessage("an event at \(time) ns, before its clock started") }
        }
        return events
    }

    /// A pattern's kind (a byte, its index in `PatternKind.allCases`) and name.
    public static func patternID(_ r: inout WireReader) throws(WireError) -> PatternID {
        let k = Int(try r.byte())
        guard k < PatternKind.allCases.count else { throw .badMessage("unknown pattern kind \(k)") }
        return PatternID(PatternKind.allCases[k], try r.string())
    }

    static func poolStall(_ stall: PoolStall, into w: inout WireWriter) {
        w.uint(stall.durationNanos)
        w.count(stall.threads.count)
        for t in stall.threads {
            w.int(Int(t.thread))
            w.string(t.place)
            w.frames(t.frames)
        }
    }

    static func poolStall(_ r: inout WireReader) throws(WireError) -> PoolStall {
        let duration = try r.uint()
        var threads: [PoolStallThread] = []
        for _ in 0..<(try r.count()) {
            let thread = try r.int()
            guard let tid = Int32(exactly: thread) else { throw .badMessage("a thread id of \(thread)") }
            threads.append(PoolStallThread(thread: tid, place: try r.string(), frames: try r.frames()))
        }
        return PoolStall(durationNanos: duration, threads: threads)
    }
}
