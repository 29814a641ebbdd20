import AsyncPatterns
import TUI

/// A health finding, with a one-line explanation.
public struct Warning: Sendable, Hashable {
    public enum Level: Sendable, Hashable { case info, warn, bad }
    public var level: Level
    public var text: String
}

/// What looks wrong in a snapshot: a stalled pool, a queue about to overflow, a mailbox
/// growing without bound, dead letters. `actors`: what all actors add up to, when the
/// snapshot lists only some (every actor with messages waiting or dead letters among them).
public func warnings(for snapshot: Snapshot, history: DashboardHistory, actors: ActorTotals? = nil) -> [Warning] {
    var found: [Warning] = []
    let lagMs = Double(snapshot.health.lastLagNanos) / 1e6
    if snapshot.health.beats > 0, lagMs >= 100 {
        found.append(
            Warning(
                level: .bad, text: "pool stalled: heartbeat \(Int(saturating: lagMs)) ms late; blocking calls hold the cooperative threads")
        )
    } else if snapshot.health.beats > 0, lagMs >= 20 {
        found.append(Warning(level: .warn, text: "pool slow: heartbeat \(Int(saturating: lagMs)) ms late"))
    }
    // Nothing can move: said first, whatever else is true (the screen said "all clear" with
    // 32 jobs waiting on 0 permits).
    for m in snapshot.semaphores where !m.isGone && m.limit == 0 && m.waiting > 0 {
        found.append(Warning(level: .bad, text: "nothing can run: \(m.name) has 0 permits and \(m.waiting) waiting (raise its limit)"))
    }
    for q in snapshot.queues where !q.isClosed {
        if q.depth >= q.capacity, q.waitingProducers > 0, q.gotPerSecond == 0, q.waitingConsumers == 0 {
            found.append(
                Warning(
                    level: .bad,
                    text: "nothing takes from \(q.name): full, \(q.waitingProducers) producers blocked and no get lately (no consumers?)"))
        } else if q.depth >= q.capacity, q.waitingProducers > 0 {
            found.append(Warning(level: .bad, text: "\(q.name) full: \(q.waitingProducers) producers blocked (back-pressure)"))
        } else if q.waitingProducers > 0 {
            // Once full, producers are let in again at half capacity (BoundedQueue).
            found.append(
                Warning(level: .warn, text: "\(q.name) was full: \(q.waitingProducers) producers wait until it drains to \(q.capacity / 2)")
            )
        } else if q.putPerSecond > q.gotPerSecond * 1.05, q.depth > 0 {
            let seconds = Double(q.capacity - q.depth) / (q.putPerSecond - q.gotPerSecond)
            found.append(
                Warning(
                    level: .warn,
                    text:
                        "\(q.name) will be full in \(formatOne(seconds)) s: \(formatOne(q.putPerSecond))/s in, \(formatOne(q.gotPerSecond))/s out"
                ))
        }
    }
    for m in snapshot.queueModels ?? [] where m.isUnstable && m.arrivalRate > 0 {
        found.append(
            Warning(
                level: .bad,
                text:
                    "\(m.name) grows without bound: ρ = \(formatFixed(m.utilization, places: 2)) ≥ 1 with c = \(m.servers); the smallest c with ρ < 1 is \(m.serversForStability)"
            ))
    }
    let growing = snapshot.actors.compactMap { a -> (ActorSnapshot, Double)? in
        guard a.mailboxDepth >= 50, let h = history.actorDepth[a.name] else { return nil }
        let perSecond = h.trend(over: 10) * DashboardHistory.samplesPerSecond
        return perSecond > 0.5 ? (a, perSecond) : nil
    }.sorted { $0.1 > $1.1 }
    for (a, rate) in growing.prefix(2) {
        found.append(Warning(level: .warn, text: "\(a.name) mailbox growing without bound: \(a.mailboxDepth) (+\(formatOne(rate))/s)"))
    }
    let dead = actors.map { snapshot.retired.actorDeadLetters + $0.deadLetters } ?? snapshot.deadLetters
    if dead > 0 {
        let last = snapshot.actors.last { !$0.recentDeadLetters.isEmpty }?.recentDeadLetters.last ?? ""
        found.append(Warning(level: .info, text: "\(dead) dead letters (latest: \(last))"))
    }
    return found
}
