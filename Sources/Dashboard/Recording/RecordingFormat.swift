import AsyncPatterns

extension PatternEvent {
    /// Something a user hunts for in a recording: a full queue, a waiter giving up, a dead
    /// letter, a blocked sender, a failure. The timeline marks where each starts.
    public var isWarning: Bool {
        switch self {
        case .queue(let e, _, _):
            switch e {
            case .producerBlocked, .waiterAbandoned: true
            default: false
            }
        case .semaphore(.waiterAbandoned, _, _): true
        case .actor(let e, _, _):
            switch e {
            case .deadLetter, .senderBlocked, .failed: true
            default: false
            }
        case .stream(.failed, _, _): true
        case .resource(let e, _, _):
            switch e {
            case .openFailed: true
            case .closed(_, let failed): failed
            default: false
            }
        default: false
        }
    }
}
