import AsyncPatterns
import TUI

/// What a key asks of the world outside the app state; the app carries it out.
public enum AppCommand: Sendable, Equatable {
    case none
    case quit
    /// Open picker entry number n.
    case open(Int)
    /// Leave the source (stop it for good) and go back to the picker.
    case close
    case pause, resume, restart
    case setSpeed(Double)
    case setKnob(String, Double)
    case setEventInterest(EventInterest)
    /// Move a replay's cursor by n events (negative: back).
    case step(Int)
    /// Move a replay's cursor to a time, in seconds after its start.
    case seek(Double)
    case seekWarning(forward: Bool)
    /// Write what is on screen to files and say where.
    case saveScreen
}

/// What carrying out a command came to: the state shows it (the app only reports it).
public enum CommandOutcome: Sendable {
    /// The source runs at this speed now.
    case speed(Double)
    /// A knob change and the source's answer; `pane` is the pane it acts on.
    case knob(KnobSpec, from: Double, answer: KnobAnswer, pane: PatternKind?, up: Bool)
    /// A warning looked for: found (the cursor is there now) or not.
    case warning(forward: Bool, found: Bool)
    /// The screen saved to this path, or why not.
    case screenSaved(path: String)
    case screenNotSaved(why: String)
    /// Picker entry n opened, or why it could not be.
    case opened(Int)
    case notOpened(Int, why: String)
}

/// What the app state needs to know about the open source to handle a key.
public struct SourceFacts: Sendable {
    public var knobs: [KnobSpec] = []
    public var values: [String: Double] = [:]
    public var capabilities: Set<SourceCapability> = []
    public var panes: [PatternKind] = []
    public var status = SourceStatus.running
    public var speed = 1.0
    /// Actor names in the order the actors pane shows them, from place `actorsOffset` up to
    /// the selection and a page past it (a sort of 100,000 actors per key would be slow).
    public var actors: [String] = []
    /// The place in the actors pane's order of the first of `actors`.
    public var actorsOffset = 0
    public var actorCount = 0
    public var queueCount = 0
    public var semaphoreCount = 0
    public var logCount = 0
    /// The event log's lines as shown (filtered), oldest first: what search looks through.
    public var logLines: [String] = []
    /// The pool's top blockers by location, in the order the Pool pane lists them.
    public var blockers: [String] = []

    public init() {}
}

/// The dashboard's state as a value: which screen, what is selected and focused, the last
/// change, the histories of the sparklines. It owns every change of itself: a key
/// (`handle(_:source:)`) gives the new state and what the outside must do; what that came
/// to (`handle(_:)`, an outcome) gives the state after it; a snapshot (`sample(_:)`) is
/// folded into the histories. The app carries out commands and renders; it never edits
/// the state. Each of these is pure (see `handling(_:source:)` for the form that returns
/// the new state).
public struct AppState: Sendable {
    public enum Screen: Sendable, Equatable {
        case picker
        case source
        case actorDetail(String)
        /// One top blocker of the pool, by location: its whole stack.
        case blockerDetail(String)
    }

    public enum Focus: Sendable, Equatable {
        case knobs
        case pane(PatternKind)
        case log
    }

    public var screen = Screen.picker
    public var choices: Int
    public var pickerSelection = 0
    public var showHelp = false
    public var selectedKnob = 0
    public var focus = Focus.knobs
    public var actorSort = ActorSort.mailbox
    public var actorSelection = 0
    /// Which queue and which semaphore the panes show in detail (their lists show all).
    public var queueSelection = 0
    public var semaphoreSelection = 0
    /// The selected top blocker in the Pool pane.
    public var poolSelection = 0
    public var logScroll = 0
    public var allEvents = false
    /// The last change, under the knobs ("consumers 2 -> 3", "pause: not available ...").
    public var lastChange: String?
    /// Why the last picker entry could not be opened, shown in the picker.
    public var pickerNote: String?
    /// The last knob change and the pane it acts on, shown in that pane's title.
    public var knobNote: (pane: PatternKind, text: String)?
    public var history = DashboardHistory()
    /// The event log's filter: one kind of pattern, a part of the pattern's name.
    public var logKind: PatternKind?
    public var logName: String?
    /// The text searched for in the event log (`/`), if any.
    public var search: String?
    /// A line being typed in the footer (search, name filter, a time to go to).
    public var prompt: Prompt?

    public init(choices: Int) {
        self.choices = choices
    }

    var keyScreen: KeyBinding.Screen { screen == .picker ? .picker : .source }

    /// The state after `key`, and what the outside must do: the pure form of `handle`.
    public func handling(_ key: Key, source: SourceFacts) -> (state: AppState, command: AppCommand) {
        var next = self
        let command = next.handle(key, source: source)
        return (next, command)
    }

    /// Applies one key.
    public mutating func handle(_ key: Key, source: SourceFacts) -> AppCommand {
        if prompt != nil { return typed(key, source) }
        if showHelp {
            // Any key closes the help, as it says; q too (it used to quit the program).
            if key != .resize { showHelp = false }
            return .none
        }
        guard let binding = KeyMap.action(for: key, on: keyScreen) else { return .none }
        if let needs = binding.needs, screen != .picker, !source.capabilities.contains(needs) {
            lastChange = "\(needs.rawValue): not available for this source"
            return .none
        }
        switch binding.action {
        case .quit: return .quit
        case .help: showHelp = true
        case .pageUp where focus == .knobs, .pageDown where focus == .knobs:
            return knob(by: binding.action == .pageUp ? 10 : -10, source)
        case .up, .down, .pageUp, .pageDown, .top, .bottom: move(binding.action, source)
        case .select: return select(source)
        case .back:
            switch screen {
            case .actorDetail, .blockerDetail: screen = .source
            default:
                screen = .picker
                return .close
            }
        case .pause:
            guard source.status == .running || source.status == .paused else { return .none }
            lastChange = source.status == .paused ? "resumed" : "paused"
            return source.status == .paused ? .resume : .pause
        case .restart:
            history = DashboardHistory()
            lastChange = "restarted"
            return .restart
        case .slower: return .setSpeed(source.speed / 2)
        case .faster: return .setSpeed(source.speed * 2)
        case .knobUp, .knobDown: return knob(by: binding.action == .knobUp ? 1 : -1, source)
        case .knobUpTen, .knobDownTen: return knob(by: binding.action == .knobUpTen ? 10 : -10, source)
        case .saveScreen: return .saveScreen
        case .focusNext, .focusPrevious:
            let order: [Focus] = [.knobs] + source.panes.map { .pane($0) } + [.log]
            let i = order.firstIndex(of: focus) ?? 0
            focus = order[(i + (binding.action == .focusNext ? 1 : -1) + order.count) % order.count]
        case .sortActors:
            actorSort = actorSort.next
        case .toggleEvents:
            allEvents.toggle()
            logScroll = 0
            return .setEventInterest(allEvents ? .all : .notable)
        case .stepForward: return .step(1)
        case .stepBack: return .step(-1)
        case .nextWarning: return .seekWarning(forward: true)
        case .previousWarning: return .seekWarning(forward: false)
        case .seekTime: prompt = Prompt(kind: .time)
        case .search: prompt = Prompt(kind: .search, text: search ?? "")
        case .filterName: prompt = Prompt(kind: .name, text: logName ?? "")
        case .filterKind:
            // Only the kinds this source shows: a kind it does not have would empty the log.
            let present = PatternKind.allCases.filter { source.panes.contains($0) }
            let kinds: [PatternKind?] = [nil] + (present.isEmpty ? PatternKind.allCases : present)
            logKind = kinds[((kinds.firstIndex(of: logKind) ?? 0) + 1) % kinds.count]
            logScroll = 0
            lastChange = "event log: " + (logKind.map { "only \($0.rawValue) events" } ?? "every kind")
        case .clearFilter:
            logKind = nil
            logName = nil
            search = nil
            logScroll = 0
            lastChange = "event log: no filter, no search"
        case .nextMatch, .previousMatch:
            findMatch(older: binding.action == .nextMatch, from: source.logLines.count - 1 - logScroll, source)
        }
        return .none
    }

    /// The selected knob moved by `steps` steps from its value now.
    private func knob(by steps: Int, _ source: SourceFacts) -> AppCommand {
        guard source.knobs.indices.contains(selectedKnob) else { return .none }
        let spec = source.knobs[selectedKnob]
        let old = source.values[spec.name] ?? spec.defaultValue
        return .setKnob(spec.name, spec.stepped(old, by: steps))
    }

    private mutating func select(_ source: SourceFacts) -> AppCommand {
        switch screen {
        case .picker:
            return choices > 0 ? .open(pickerSelection) : .none
        case .source:
            if focus == .pane(.actor), source.actors.indices.contains(actorSelection - source.actorsOffset) {
                screen = .actorDetail(source.actors[actorSelection - source.actorsOffset])
            }
            if focus == .pane(.health), source.blockers.indices.contains(poolSelection) {
                screen = .blockerDetail(source.blockers[poolSelection])
            }
        case .actorDetail, .blockerDetail:
            screen = .source
        }
        return .none
    }

    private mutating func move(_ action: KeyAction, _ source: SourceFacts) {
        let delta =
            switch action {
            case .up: -1
            case .down: 1
            case .pageUp: -10
            case .pageDown: 10
            case .top: -Int.max / 2
            default: Int.max / 2
            }
        func clamp(_ value: Int, _ count: Int) -> Int { min(max(0, count - 1), max(0, value)) }
        if screen == .picker {
            pickerSelection = clamp(pickerSelection + delta, choices)
            return
        }
        switch focus {
        case .knobs:
            selectedKnob = clamp(selectedKnob + delta, source.knobs.count)
        case .pane(.actor):
            actorSelection = clamp(actorSelection + delta, source.actorCount)
        case .pane(.queue):
            queueSelection = clamp(queueSelection + delta, source.queueCount)
        case .pane(.semaphore):
            semaphoreSelection = clamp(semaphoreSelection + delta, source.semaphoreCount)
        case .pane(.health):
            poolSelection = clamp(poolSelection + delta, source.blockers.count)
        case .log:
            logScroll = clamp(logScroll - delta, source.logCount)
        case .pane:
            break
        }
    }

    /// Shows what carrying out a command came to.
    public mutating func handle(_ outcome: CommandOutcome) {
        switch outcome {
        case .speed(let speed): lastChange = "speed \(formatDecimal(speed))x"
        case .knob(let spec, let old, let answer, let pane, let up): noteKnob(spec, from: old, answer: answer, pane: pane, up: up)
        case .warning(let forward, found: true):
            history = DashboardHistory()  // the sparklines start again where the cursor lands
            lastChange = forward ? "next warning" : "previous warning"
            focus = .log
            logScroll = 0
        case .warning(let forward, found: false): lastChange = "no \(forward ? "later" : "earlier") warning"
        case .screenSaved(let path): lastChange = "screen saved to \(path) (and .ans with colours)"
        case .screenNotSaved(let why): lastChange = "cannot save the screen: \(why)"
        case .opened(let index):
            self = AppState(choices: choices)
            pickerSelection = index
            screen = .source
        case .notOpened(let index, let why):
            screen = .picker
            pickerSelection = index
            pickerNote = why
        }
    }

    /// Folds a snapshot into the histories (twice a second of the source's time).
    public mutating func sample(_ snapshot: Snapshot, actorCount: Int? = nil) { history.sample(snapshot, actorCount: actorCount) }

    /// The picker's entries changed (programs come and go): the selection stays on the entry
    /// it was on, by name, or as near as there is.
    public mutating func choicesChanged(to names: [String], from old: [String]) {
        let selectedName = old.indices.contains(pickerSelection) ? old[pickerSelection] : nil
        choices = names.count
        pickerSelection = names.firstIndex { $0 == selectedName } ?? min(pickerSelection, max(0, names.count - 1))
    }

    /// Shows what became of a knob change.
    mutating func noteKnob(_ spec: KnobSpec, from old: Double, answer: KnobAnswer, pane: PatternKind?, up: Bool) {
        switch answer {
        case .refused(let why):
            lastChange = "\(spec.name): \(why)"
        case .applied(let new):
            lastChange =
                old == new ? "\(spec.name) at its \(up ? "maximum" : "minimum")" : "\(spec.name) \(spec.format(old)) -> \(spec.format(new))"
            switch spec.timing {
            case .now: break
            case .nextRound: lastChange! += " (next round)"
            case .seedOnly: lastChange! += " (seed only)"
            }
            knobNote = pane.map { ($0, "\(spec.name) \(spec.format(new))") }
        }
    }
}
