import AsyncPatterns
import SluiceWire

/// One viewer's conversation with the agent, as a pure state machine: each message in
/// gives the one thing to do. Hello first, with a version we speak; then watch (and watch
/// again to change rate or events), knob changes and (version 3) which actors to show, in
/// any order; bye ends it.
struct ViewerSession {
    enum State: Equatable {
        case greeting
        case ready(version: Int)
        case watching(version: Int, every: Duration, events: EventInterest)
        case closed
    }

    enum Action: Equatable {
        case sayHello(version: Int)
        case startWatching(every: Duration, events: EventInterest)
        case changeWatching(every: Duration, events: EventInterest)
        case setKnob(id: Int, name: String, value: Double)
        /// List only the actors this query asks for from now on (nil: every actor).
        case show(actors: ActorQuery?)
        /// Close the connection; say why first when `reason` is not nil.
        case close(reason: String?)
    }

    static let rates: ClosedRange<Double> = 0.1...50

    private(set) var state = State.greeting
    /// The versions this side speaks (a test plays an agent of an older version).
    let versions: [Int]

    init(versions: [Int] = WireVersion.supported) { self.versions = versions }

    /// `watching`/`maxViewers`: how many viewers watch now, and the most allowed.
    mutating func receive(_ message: ViewerMessage, watching: Int, maxViewers: Int) -> Action {
        switch (state, message) {
        case (.closed, _):
            return .close(reason: nil)
        case (_, .bye):
            state = .closed
            return .close(reason: nil)
        case (.greeting, .hello(let versions, _)):
            do {
                let version = try chooseVersion(ours: self.versions, theirs: versions)
                state = .ready(version: version)
                return .sayHello(version: version)
            } catch {
                return refuse("\(error)")
            }
        case (.greeting, _):
            return refuse("the first message must be hello")
        case (_, .hello):
            return refuse("a second hello")
        case (.ready(let version), .watch(let rate, let events)):
            guard rate.isFinite, Self.rates.contains(rate) else { return refuse(badRate(rate)) }
            guard watching < maxViewers else {
                return refuse("this program already has \(watching) viewers, the most it allows")
            }
            let every = Duration.nanoseconds(Int64(1e9 / rate))
            state = .watching(version: version, every: every, events: events.interest)
            return .startWatching(every: every, events: events.interest)
        case (.watching(let version, _, _), .watch(let rate, let events)):
            guard rate.isFinite, Self.rates.contains(rate) else { return refuse(badRate(rate)) }
            let every = Duration.nanoseconds(Int64(1e9 / rate))
            state = .watching(version: version, every: every, events: events.interest)
            return .changeWatching(every: every, events: events.interest)
        case (_, .setKnob(let id, let name, let value)):
            return .setKnob(id: id, name: name, value: value)
        case (.ready(let version), .show(let query)), (.watching(let version, _, _), .show(let query)):
            guard version >= WireVersion.actorQueries else {
                return refuse("show needs protocol version \(WireVersion.actorQueries); this connection speaks version \(version)")
            }
            return .show(actors: query)
        }
    }

    private mutating func refuse(_ reason: String) -> Action {
        state = .closed
        return .close(reason: reason)
    }

    private func badRate(_ rate: Double) -> String {
        "snapshotsPerSecond \(rate) is outside \(formatDecimal(Self.rates.lowerBound))...\(formatDecimal(Self.rates.upperBound))"
    }
}
