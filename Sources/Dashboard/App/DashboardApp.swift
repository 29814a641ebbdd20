#if canImport(Glibc)
import Glibc
#endif
import AsyncPatterns
import Scenarios
import TUI

/// The dashboard: the picker, the scenario screen and its detail views, driven by keys.
///
/// The loop reads a key with a short timeout, applies it, samples the running scenario's
/// `Snapshot`, renders a frame into a `Buffer` and hands it to the backend, which sends
/// only the cells that changed. Scenarios run on the cooperative pool; this loop only
/// samples them.
@MainActor
public final class DashboardApp {
    public static let minimumSize = (width: 80, height: 24)
    /// Frame period: about 20 frames a second.
    public static let frameMilliseconds = 50

    enum Screen {
        case picker
        case scenario
        case actorDetail(String)
    }

    enum Focus: Equatable, Sendable {
        case knobs
        case pane(PaneKind)
        case log
    }

    let backend: any Backend
    let scenarios: [any Scenario]
    var screen = Screen.picker
    var pickerSelection = 0
    var showHelp = false
    var run: ScenarioRun?
    var history = DashboardHistory()
    var selectedKnob = 0
    var focus = Focus.knobs
    var actorSort = ActorsPane.SortKey.mailbox
    var actorSelection = 0
    var logScroll = 0
    var lastChange: String?
    var knobNote: (pane: PaneKind, text: String)?
    var allEvents = false
    var lastSnapshot = Snapshot()
    let preset: Preset
    let seed: UInt64
    let initialValues: [String: Double]
    let initialSpeed: Double
    /// Returns the signal number when one asked us to stop.
    let interrupted: () -> Int32?

    public init(backend: any Backend, scenarios: [any Scenario] = Catalog.all, preset: Preset = .live, seed: UInt64 = 1,
                values: [String: Double] = [:], speed: Double = 1, interrupted: @escaping () -> Int32? = { nil }) {
        self.backend = backend
        self.scenarios = scenarios
        self.preset = preset
        self.seed = seed
        self.initialValues = values
        self.initialSpeed = speed
        self.interrupted = interrupted
    }

    /// Runs until `q` (returns 0) or a signal (returns 128 + its number).
    /// - Parameter start: a scenario to open at once instead of the picker.
    public func run(start: (any Scenario)? = nil) -> Int32 {
        if let start {
            pickerSelection = scenarios.firstIndex { $0.name == start.name } ?? 0
            open(start, values: initialValues, speed: initialSpeed)
        }
        // On the way out, give the scenario a moment to finish what it holds, not more:
        // the process ends anyway, and the user asked to leave.
        defer { stopRun(waitMilliseconds: 300) }
        var dirty = true
        var lastDraw = ContinuousClock.now
        while true {
            if let signal = interrupted() { return 128 + signal }
            // A still screen (the picker, a paused or finished scenario) is drawn only after
            // a key, and once a second in case something outside changed: near-zero CPU.
            if dirty || isMoving || ContinuousClock.now - lastDraw >= .seconds(1) {
                draw()
                lastDraw = ContinuousClock.now
                dirty = false
            }
            guard let key = backend.readKey(timeoutMilliseconds: Self.frameMilliseconds) else { continue }
            dirty = true
            if handle(key) == .quit { return 0 }
        }
    }

    /// True while the screen shows a running scenario (it changes every frame).
    var isMoving: Bool {
        guard case .picker = screen else { return run?.currentStatus == .running }
        return false
    }

    /// Renders one frame and draws it (public for tests and benchmarks).
    public func draw() {
        backend.draw(frame())
    }

    /// Composes the current screen into a buffer of the backend's size.
    public func frame() -> Buffer {
        let (width, height) = backend.size
        var buffer = Buffer(width: width, height: height)
        if width < Self.minimumSize.width || height < Self.minimumSize.height {
            tooSmall(into: &buffer)
            return buffer
        }
        let glyphs = backend.glyphs
        switch screen {
        case .picker:
            PickerView(scenarios: scenarios, selected: pickerSelection, glyphs: glyphs).render(in: buffer.area, into: &buffer)
        case .scenario, .actorDetail:
            if let run {
                let snapshot = run.snapshot()
                lastSnapshot = snapshot
                history.sample(snapshot)
                ScenarioScreen(app: viewState, run: run, snapshot: snapshot, glyphs: glyphs).render(in: buffer.area, into: &buffer)
            }
        }
        if showHelp {
            HelpOverlay(title: "Keys", lines: helpLines, glyphs: glyphs).render(in: buffer.area, into: &buffer)
        }
        return buffer
    }

    private var viewState: ScenarioScreen.ViewState {
        var detail: String?
        if case .actorDetail(let name) = screen { detail = name }
        return ScenarioScreen.ViewState(selectedKnob: selectedKnob, lastChange: lastChange, focus: focus, detailActor: detail,
                                        history: history, actorSort: actorSort, actorSelection: actorSelection, logScroll: logScroll,
                                        knobNote: knobNote, allEvents: allEvents)
    }

    private func tooSmall(into buffer: inout Buffer) {
        let (w, h) = (buffer.width, buffer.height)
        let message = "terminal too small: need \(Self.minimumSize.width)x\(Self.minimumSize.height), have \(w)x\(h)"
        let lines = wrap(message, width: max(1, w)) + (h > 2 ? ["", "q quits"] : [])
        let top = max(0, (h - lines.count) / 2)
        for (i, line) in lines.prefix(h).enumerated() {
            buffer.put(line, x: max(0, (w - CellWidth.of(line)) / 2), y: top + i, style: i == 0 ? Theme.warn : Theme.label)
        }
    }

    // MARK: keys

    enum Outcome { case stay, quit }

    /// Applies one key. Public so tests can drive the app without a loop.
    @discardableResult
    public func press(_ key: Key) -> Bool { handle(key) == .quit }

    func handle(_ key: Key) -> Outcome {
        if key == .char("q") { return .quit }
        if showHelp {
            if key != .resize { showHelp = false }
            return .stay
        }
        if key == .char("?") || key == .function(1) {
            showHelp = true
            return .stay
        }
        switch screen {
        case .picker: handlePicker(key)
        case .scenario: handleScenario(key)
        case .actorDetail:
            if key == .escape || key == .backspace || key == .enter { screen = .scenario }
        }
        return .stay
    }

    private func handlePicker(_ key: Key) {
        switch key {
        case .up, .char("k"), .wheelUp: pickerSelection = max(0, pickerSelection - 1)
        case .down, .char("j"), .wheelDown: pickerSelection = min(scenarios.count - 1, pickerSelection + 1)
        case .home: pickerSelection = 0
        case .end: pickerSelection = scenarios.count - 1
        case .enter, .right, .char("l"): open(scenarios[pickerSelection], values: [:], speed: initialSpeed)
        default: break
        }
    }

    private func handleScenario(_ key: Key) {
        guard let run else { return }
        let specs = run.scenario.knobs
        switch key {
        case .escape, .backspace:
            stopRun()
            screen = .picker
        case .char(" "):
            run.togglePause()
            lastChange = run.currentStatus == .paused ? "paused" : "resumed"
        case .char("r"):
            restart()
        case .char("]"), .char("}"):
            run.setSpeed(run.speed * 2)
            lastChange = "speed \(formatDecimal(run.speed))x"
        case .char("["), .char("{"):
            run.setSpeed(run.speed / 2)
            lastChange = "speed \(formatDecimal(run.speed))x"
        case .tab: cycleFocus(by: 1)
        case .backTab: cycleFocus(by: -1)
        case .char("e"):
            allEvents.toggle()
            logScroll = 0
        case .char("s"):
            actorSort = ActorsPane.SortKey(rawValue: (actorSort.rawValue + 1) % ActorsPane.SortKey.allCases.count)!
        case .char("+"), .char("="), .right, .char("l"):
            turnKnob(specs, by: 1)
        case .char("-"), .char("_"), .left, .char("h"):
            turnKnob(specs, by: -1)
        case .up, .char("k"), .wheelUp:
            moveSelection(by: -1, specs: specs)
        case .down, .char("j"), .wheelDown:
            moveSelection(by: 1, specs: specs)
        case .pageUp: moveSelection(by: -10, specs: specs)
        case .pageDown: moveSelection(by: 10, specs: specs)
        case .enter:
            if focus == .pane(.actors) {
                let sorted = ActorsPane.sorted(lastSnapshot.actors, by: actorSort)
                if sorted.indices.contains(actorSelection) { screen = .actorDetail(sorted[actorSelection].name) }
            }
        default: break
        }
    }

    private func moveSelection(by delta: Int, specs: [KnobSpec]) {
        switch focus {
        case .knobs:
            guard !specs.isEmpty else { return }
            selectedKnob = min(specs.count - 1, max(0, selectedKnob + (abs(delta) == 1 ? delta : delta.signum() * specs.count)))
        case .pane(.actors):
            actorSelection = min(max(0, lastSnapshot.actors.count - 1), max(0, actorSelection + delta))
        case .log:
            logScroll = min(max(0, lastSnapshot.recentEvents.count - 1), max(0, logScroll - delta))
        case .pane:
            break
        }
    }

    private func turnKnob(_ specs: [KnobSpec], by steps: Int) {
        guard let run, specs.indices.contains(selectedKnob) else { return }
        let spec = specs[selectedKnob]
        let old = run.knobs.value(spec.name)
        let new = run.setKnob(spec.name, to: spec.stepped(old, by: steps))
        lastChange = old == new ? "\(spec.name) at its \(steps > 0 ? "maximum" : "minimum")" : "\(spec.name) \(spec.format(old)) -> \(spec.format(new))"
        knobNote = (PaneKind.affected(by: spec.name, in: run.scenario.name), "\(spec.name) \(spec.format(new))")
    }

    private func cycleFocus(by delta: Int) {
        let order: [Focus] = [.knobs] + panes.map { .pane($0) } + [.log]
        let i = order.firstIndex(of: focus) ?? 0
        focus = order[(i + delta + order.count) % order.count]
    }

    var panes: [PaneKind] {
        guard let run else { return [] }
        return PaneKind.panes(for: run.scenario.name, snapshot: lastSnapshot)
    }

    // MARK: runs

    /// Opens a scenario's screen with the given knob values (what Enter in the picker does).
    public func open(_ scenario: any Scenario, values: [String: Double], speed: Double) {
        stopRun()
        run = ScenarioRun(scenario, preset: preset, values: values, speed: speed, seed: seed)
        history = DashboardHistory()
        lastSnapshot = Snapshot()
        selectedKnob = 0
        focus = .knobs
        actorSelection = 0
        logScroll = 0
        lastChange = nil
        knobNote = nil
        screen = .scenario
    }

    private func restart() {
        run?.restart()
        history = DashboardHistory()
        lastChange = "restarted"
    }

    /// Stops the running scenario for good. The UI thread waits for its tasks only on the
    /// way out, for `waitMilliseconds`, and never needs the pool to do so.
    private func stopRun(waitMilliseconds: Int = 0) {
        guard let run else { return }
        self.run = nil
        run.stop(waitingAtMost: .milliseconds(waitMilliseconds))
    }

    var helpLines: [String] {
        switch screen {
        case .picker:
            return ["up/down or j/k   choose a scenario", "Enter            start it", "?                this help", "q                quit"]
        case .scenario, .actorDetail:
            return [
                "up/down, j/k      select a knob (or a row in the focused list)",
                "+/- or left/right change the selected knob",
                "space             pause / resume the scenario (its clock stops)",
                "r                 restart with the current knobs",
                "[ / ]             slower / faster (speed halves / doubles)",
                "Tab / Shift-Tab   move focus between panels",
                "Enter             open the selected actor (Actors panel focused)",
                "s                 sort the actors by the next column",
                "e                 event log: notable events / every event",
                "PgUp/PgDn, wheel  scroll the focused list",
                "Esc               back (detail, then the picker)",
                "q                 quit",
            ]
        }
    }
}
