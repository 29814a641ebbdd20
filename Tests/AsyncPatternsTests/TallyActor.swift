@testable import AsyncPatterns

/// Messages for mailbox tests (the tutorial's own actors live in Scenarios).
enum Tally: Sendable, Hashable {
    case increment
    case add(Int)
    case getCount(ReplyTo<Int>)
}

/// Counts `increment` and `add`; answers `getCount`.
struct TallyBehavior: ActorBehavior {
    var count = 0

    mutating func receive(_ envelope: Envelope<Tally>, context: ActorContext<Tally>) async throws {
        switch envelope.message {
        case .increment: count += 1
        case .add(let n): count += n
        case .getCount(let replyTo): replyTo.send(count)
        }
    }
}
