import AsyncPatterns

/// One event as a line of text, for logs and summaries.
public func describe(_ event: PatternEvent) -> String {
    let who = event.source.name
    switch event {
    case .queue(let e, _, _):
        switch e {
        case .put(let g): return "\(who): put (depth \(g.depth))"
        case .got(let g): return "\(who): got (depth \(g.depth))"
        case .producerBlocked(let g): return "\(who): producer blocked, queue full (\(g.waitingProducers) waiting)"
        case .consumerBlocked(let g): return "\(who): consumer waiting, queue empty (\(g.waitingConsumers) waiting)"
        case .waiterAbandoned(_, let producer): return "\(who): a waiting \(producer ? "put" : "get") gave up"
        case .taskDone(let unfinished): return "\(who): task done (\(unfinished) unfinished)"
        case .capacityChanged(let c, _): return "\(who): capacity \(c)"
        case .closed(let g): return "\(who): closed with \(g.depth) items left"
        }
    case .semaphore(let e, _, _):
        switch e {
        case .acquired(let g): return "\(who): acquired (\(g.inUse)/\(g.limit) in use)"
        case .released(let g): return "\(who): released (\(g.inUse)/\(g.limit) in use)"
        case .waiting(let g): return "\(who): waiting for a permit (\(g.waiting) in line)"
        case .waiterAbandoned: return "\(who): a waiter gave up"
        case .limitChanged(let g): return "\(who): limit \(g.limit)"
        }
    case .actor(let e, _, _):
        switch e {
        case .enqueued(let d): return "\(who): message queued (mailbox \(d))"
        case .processed(let d): return "\(who): processed (mailbox \(d))"
        case .deadLetter(let to, let reason): return "\(who): DEAD LETTER to \(to) (\(reason.rawValue))"
        case .senderBlocked(let d): return "\(who): sender blocked, mailbox full (\(d))"
        case .started: return "\(who): started"
        case .stopped(let n): return "\(who): stopped (\(n) unprocessed)"
        case .failed: return "\(who): message failed"
        }
    case .stream(let e, _, _):
        switch e {
        case .produced(let n, let t): return "\(who): produced \(n)\(t.map { "/\($0)" } ?? "")"
        case .consumed(let n, let t): return "\(who): consumed \(n)\(t.map { "/\($0)" } ?? "")"
        case .finished(let n): return "\(who): finished after \(n)"
        case .failed(let n): return "\(who): failed after \(n)"
        case .stoppedEarly(let n): return "\(who): consumer stopped after \(n)"
        }
    case .resource(let e, _, _):
        switch e {
        case .opening: return "\(who): opening"
        case .opened: return "\(who): opened"
        case .closing: return "\(who): closing"
        case .closed(_, let failed): return "\(who): closed\(failed ? " after an error" : "")"
        case .openFailed: return "\(who): open failed"
        case .timed(let ns): return "\(who): took \(formatDecimal(Double(ns) / 1e6)) ms"
        }
    case .health(let e, _, _):
        switch e {
        case .loopLag(let ns): return "\(who): heartbeat \(formatDecimal(Double(ns) / 1e6)) ms late"
        case .note(let text): return text
        case .poolStall(let stall):
            let places = stall.threads.map { "\($0.place) (thread \($0.thread))" }
            return "pool stalled \(stall.durationNanos / 1_000_000) ms" + (places.isEmpty ? "" : ": " + places.joined(separator: ", "))
        }
    }
}
