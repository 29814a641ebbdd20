import Foundation
import Scenarios
import AsyncPatterns

/// A pipeline described by a file: its stages, the links between them, and which of its
/// numbers are knobs. Built by `PipelineSpec.parse(_:file:)`, which has checked everything
/// a run relies on (names resolve, no cycle of plain links, ranges hold).
public struct PipelineSpec: Sendable {
    /// The name shown in the dashboard's header (the file's `name`, else its file name).
    public var name: String
    /// One line for lists.
    public var summary: String
    /// A few lines on what to watch for.
    public var explanation: String
    /// How long sources emit in the `seed` preset (scenario seconds), unless they stop
    /// earlier after their `items`.
    public var seedDuration: Double
    /// Where items come from.
    public var sources: [SourceSpec]
    /// Bounded queues.
    public var queues: [QueueSpec]
    /// Worker pools, each taking from one queue.
    public var pools: [PoolSpec]
    /// Semaphores that pools hold a permit of while serving.
    public var semaphores: [SemaphoreSpec]
    /// Actors with a mailbox, fanning out what they receive.
    public var actors: [ActorSpec]
    /// Numbers that can be turned while it runs.
    public var knobs: [KnobDeclaration]

    /// The stage named `name`, as a kind.
    public func kind(of name: String) -> StageKind? {
        if sources.contains(where: { $0.name == name }) { return .source }
        if queues.contains(where: { $0.name == name }) { return .queue }
        if pools.contains(where: { $0.name == name }) { return .pool }
        if semaphores.contains(where: { $0.name == name }) { return .semaphore }
        if actors.contains(where: { $0.name == name }) { return .actor }
        return nil
    }

    /// The pool that takes from queue `name`, if any.
    public func pool(servingQueue name: String) -> PoolSpec? { pools.first { $0.from == name } }
}

/// The kinds of stage a file may declare, each as an array of tables (`[[pool]]`).
public enum StageKind: String, Sendable, CaseIterable {
    case source, queue, pool, semaphore, actor
}

/// How a source spaces its items.
public enum Arrivals: Sendable, Equatable {
    /// Exactly 1/rate apart.
    case constant
    /// Exponentially distributed gaps with mean 1/rate (a Poisson process).
    case poisson
    /// `size` items at once, bursts exactly size/rate apart.
    case bursty(size: Int)

    /// The squared coefficient of variation of the gaps between items (0 constant, 1 Poisson;
    /// for bursts, of the gaps seen one item at a time).
    public var gapSCV: Double {
        switch self {
        case .constant: 0
        case .poisson: 1
        case .bursty(let n): Double(n) - 1
        }
    }
}

/// A source of items.
public struct SourceSpec: Sendable {
    /// Its name, unique in the file (links and knobs use it).
    public var name: String
    /// Items per second.
    public var rate: Double
    /// How it spaces its items.
    public var arrivals: Arrivals
    /// Items it emits before it stops; nil: until the run ends.
    public var items: Int?
    /// The queue or actor it feeds.
    public var to: String
    /// Where it is declared.
    public var position: SourcePosition
}

/// A bounded queue.
public struct QueueSpec: Sendable {
    /// Its name, unique in the file (links and knobs use it).
    public var name: String
    /// Items it holds before producers wait.
    public var capacity: Int
    /// Producers that waited are resumed together once the depth is below this.
    public var lowWater: Int?
    /// Where it is declared in the file.
    public var position: SourcePosition
}

/// A time drawn from a distribution, in seconds.
public enum ServiceTime: Sendable, Equatable {
    case fixed(Double)
    /// Exponential with this mean.
    case exponential(mean: Double)
    /// Log-normal with this median and 99th percentile.
    case logNormal(p50: Double, p99: Double)

    /// z of the standard normal's 99th percentile.
    static let z99 = 2.326_347_874_040_841

    /// The mean.
    public var mean: Double {
        switch self {
        case .fixed(let t): t
        case .exponential(let m): m
        case .logNormal(let p50, let p99):
            p50 * exp(pow(log(p99 / p50) / Self.z99, 2) / 2)
        }
    }

    /// The squared coefficient of variation (variance / mean²): 0 fixed, 1 exponential.
    public var scv: Double {
        switch self {
        case .fixed: 0
        case .exponential: 1
        case .logNormal(let p50, let p99): exp(pow(log(p99 / p50) / Self.z99, 2)) - 1
        }
    }

    /// The same shape with its typical value (fixed value, mean, or median) set to `seconds`.
    public func scaled(to seconds: Double) -> ServiceTime {
        switch self {
        case .fixed: .fixed(seconds)
        case .exponential: .exponential(mean: seconds)
        case .logNormal(let p50, let p99): .logNormal(p50: seconds, p99: seconds * p99 / p50)
        }
    }

    /// The typical value a knob turns: the fixed value, the mean, or the median.
    public var typical: Double {
        switch self {
        case .fixed(let t): t
        case .exponential(let m): m
        case .logNormal(let p50, _): p50
        }
    }

    /// Whether the M/M/c formulas hold exactly (exponential times).
    public var isExponential: Bool { if case .exponential = self { true } else { false } }

    /// One draw, from uniform numbers in (0, 1].
    public func sample(_ u1: Double, _ u2: Double) -> Double {
        switch self {
        case .fixed(let t): return t
        case .exponential(let m): return -m * log(u1)
        case .logNormal(let p50, let p99):
            let sigma = log(p99 / p50) / Self.z99
            let z = (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
            return p50 * exp(sigma * z)
        }
    }

    /// E.g. `exponential mean 20ms`.
    public var description: String {
        switch self {
        case .fixed(let t): "fixed \(formatShortSeconds(t))"
        case .exponential(let m): "exponential mean \(formatShortSeconds(m))"
        case .logNormal(let p50, let p99): "log-normal p50 \(formatShortSeconds(p50)) p99 \(formatShortSeconds(p99))"
        }
    }
}

/// A pool of workers taking items from a queue.
public struct PoolSpec: Sendable {
    /// Its name, unique in the file (links and knobs use it).
    public var name: String
    /// The queue it takes from.
    public var from: String
    /// Worker tasks.
    public var workers: Int
    /// Time to serve one item (one attempt).
    public var service: ServiceTime
    /// Chance (0...1) that one attempt fails.
    public var failure: Double
    /// Attempts after a failed one before the item is given up.
    public var retries: Int
    /// A semaphore a worker holds a permit of while serving.
    public var semaphore: String?
    /// Where served items go (a queue or an actor); nil: they are done.
    public var to: String?
    /// A loop back: after serving, with `chance`, a new item goes to `to` (a crawler's
    /// discovered links). May form a cycle; dropped when that queue is full.
    public var feedback: Feedback?
    /// Where it is declared in the file.
    public var position: SourcePosition

    /// A pool's loop back.
    public struct Feedback: Sendable {
        /// The queue it sends to.
        public var to: String
        /// Chance (0..<1) that a served item sends a new one.
        public var chance: Double
    }
}

/// A counting semaphore.
public struct SemaphoreSpec: Sendable {
    /// Its name, unique in the file (links and knobs use it).
    public var name: String
    /// Permits.
    public var permits: Int
    /// Where it is declared in the file.
    public var position: SourcePosition
}

/// An actor: takes messages from its mailbox one at a time, spends `service` on each, and
/// sends a copy to every stage in `to` (fan-out); with no `to` it is where items end.
public struct ActorSpec: Sendable {
    /// Its name, unique in the file (links and knobs use it).
    public var name: String
    /// The mailbox bound; nil: unbounded.
    public var mailbox: Int?
    /// Time spent on each message; nil: none.
    public var service: ServiceTime?
    /// Stages that each get a copy of every message; empty: items end here.
    public var to: [String]
    /// Where it is declared in the file.
    public var position: SourcePosition
}

/// A number of the file that is a knob: `stage.field`, its range and step.
public struct KnobDeclaration: Sendable {
    /// `stage.field`, e.g. `resizers.workers`.
    public var name: String
    /// The stage it belongs to.
    public var stage: String
    /// Which of its numbers.
    public var field: KnobField
    /// The values it may take, in its unit.
    public var range: ClosedRange<Double>
    /// How much one turn changes it.
    public var step: Double
    /// The file's value (in the knob's unit).
    public var value: Double
    /// Where it is declared in the file.
    public var position: SourcePosition

    /// The knob as the dashboard and command line see it.
    public var spec: KnobSpec {
        KnobSpec(
            name, unit: field.unit, range: range, step: step, default: value, actsOn: field == .permits ? .semaphore : .queue,
            "\(field.summary) of \(stage)")
    }
}

/// The numbers of a stage that may be knobs.
public enum KnobField: String, Sendable, CaseIterable {
    /// A source's items per second.
    case rate
    /// A queue's capacity.
    case capacity
    /// A pool's worker count.
    case workers
    /// A pool's failure chance, in percent.
    case failure
    /// A pool's typical service time (fixed value, mean or median), in milliseconds.
    case service
    /// A semaphore's permits.
    case permits

    var kind: StageKind {
        switch self {
        case .rate: .source
        case .capacity: .queue
        case .workers, .failure, .service: .pool
        case .permits: .semaphore
        }
    }

    var unit: String {
        switch self {
        case .rate: "items/s"
        case .capacity: "items"
        case .workers, .permits: ""
        case .failure: "%"
        case .service: "ms"
        }
    }

    var summary: String {
        switch self {
        case .rate: "items per second"
        case .capacity: "capacity"
        case .workers: "workers"
        case .failure: "failure chance"
        case .service: "service time"
        case .permits: "permits"
        }
    }

    /// The values the field can take at all.
    var limits: ClosedRange<Double> {
        switch self {
        case .rate: 0...1_000_000
        case .capacity: 1...10_000_000
        case .workers, .permits: 0...100_000
        case .failure: 0...100
        case .service: 0...3_600_000
        }
    }

    var isInteger: Bool { self == .capacity || self == .workers || self == .permits }
}
