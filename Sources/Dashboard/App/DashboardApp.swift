import AsyncPatterns
import TUI

/// The dashboard: the picker, a source's screen and its detail views, driven by keys.
///
/// The loop reads a key with a short timeout, lets the app state handle it, carries out
/// the command on the source, samples the source's `Snapshot`, renders a frame into a
/// `Buffer` and hands it to the backend, which sends only the cells that changed. Sources
/// run elsewhere (a local run on the cooperative pool); this loop only samples them.
@MainActor
public final class DashboardApp {
    public static let minimumSize = (width: 80, height: 24)
    /// Frame period: about 20 frames a second.
    public static let frameMilliseconds = 50
    /// How long leaving waits for a source to stop before going on without it.
    public static let stopLimit = Duration.milliseconds(300)

    let backend: any Backend
    private(set) var choices: [SourceChoice]
    /// Reads the choices again (attachable programs come and go); nil: they are fixed.
    let refreshChoices: (() -> [SourceChoice])?
    private var lastRefresh = ContinuousClock.now
    public private(set) var state: AppState
    public private(set) var source: (any Source)?
    var lastSnapshot = Snapshot()
    /// What all the actors add up to: `lastSnapshot` lists only those the screen asked for.
    var lastActors = ActorTotals()
    /// What the last snapshot was asked for.
    private var lastQuery: ActorQuery?
    /// When the next snapshot may be taken (see `frame()`).
    var nextSnapshot = ContinuousClock.now
    /// How much longer than the last snapshot took the app waits before taking another.
    public static let snapshotSpacing = 4
    /// Returns the signal number when one asked us to stop.
    let interrupted: () -> Int32?

    let words: PickerWords

    public init(
        backend: any Backend, choices: [SourceChoice], words: PickerWords = .scenarios,
        refreshChoices: (() -> [SourceChoice])? = nil, interrupted: @escaping () -> Int32? = { nil }
    ) {
        self.refreshChoices = refreshChoices
        self.words = words
        self.backend = backend
        self.choices = choices
        self.interrupted = interrupted
        state = AppState(choices: choices.count)
    }

    /// Runs until `q` (returns 0) or a signal (returns 128 + its number); the source is
    /// stopped on the way out, waiting at most `stopLimit`.
    /// - Parameter start: a picker entry to open at once, with its starting knob values.
    public func run(start: (index: Int, values: [String: Double])? = nil) -> Int32 {
        if let start { open(start.index, values: start.values) }
        defer { quit() }
        var dirty = true
        var lastDraw = ContinuousClock.now
        while true {
            if let signal = interrupted() { return 128 + signal }
            // A still screen (the picker, a paused or finished source) is drawn only after
            // a key, and once a second in case something outside changed: near-zero CPU.
            if dirty || isMoving || ContinuousClock.now - lastDraw >= .seconds(1) {
                draw()
                lastDraw = ContinuousClock.now
                dirty = false
            }
            guard let key = backend.readKey(timeoutMilliseconds: Self.frameMilliseconds) else { continue }
            dirty = true
            if press(key) { return 0 }
        }
    }

    /// True while the screen shows a running source (it changes every frame).
    var isMoving: Bool { state.screen != .picker && source?.status == .running }

    /// Reads what is due and draws a frame of it (public for tests and benchmarks).
    public func draw() {
        refresh()
        backend.draw(frame())
    }

    /// Reads what the next frame shows, when it is due: the picker's entries (programs come
    /// and go), or the source's snapshot, which the state folds into its histories.
    public func refresh() {
        guard state.screen != .picker, let source else {
            refreshChoicesIfDue()
            return
        }
        // A snapshot costs time in proportion to the patterns (100,000 actors: tens of ms):
        // the next one waits `snapshotSpacing` times as long as the last one took, so
        // reading a huge program takes at most a fifth of this thread; frames in between
        // draw the last snapshot. A small program is read every frame.
        // A snapshot lists only the actors the screen shows (the first rows in its order, and
        // those it follows): one whose rows no longer cover the screen (another order, a
        // selection further down) is read again at once.
        let start = ContinuousClock.now
        let query = actorQuery
        guard start >= nextSnapshot || lastQuery?.covers(query) != true else { return }
        (lastSnapshot, lastActors) = source.snapshot(actors: query)
        lastQuery = query
        state.sample(lastSnapshot, actorCount: lastActors.count)
        nextSnapshot = start + (ContinuousClock.now - start) * (Self.snapshotSpacing + 1)
    }

    /// Composes the current screen into a buffer of the backend's size: it reads the state,
    /// the source and the last snapshot, and changes none of them.
    public func frame() -> Buffer {
        let (width, height) = backend.size
        var buffer = Buffer(width: width, height: height)
        if width < Self.minimumSize.width || height < Self.minimumSize.height {
            tooSmall(into: &buffer)
            return buffer
        }
        let glyphs = backend.glyphs
        let capabilities = source?.capabilities ?? []
        if state.screen == .picker || source == nil {
            PickerView(
                choices: choices, selected: state.pickerSelection, glyphs: glyphs,
                hints: KeyMap.hints(on: .picker, capabilities: capabilities, glyphs: glyphs), words: words,
                note: state.pickerNote
            )
            .render(in: buffer.area, into: &buffer)
        } else if let source {
            SourceScreen(state: state, source: source, snapshot: lastSnapshot, actors: lastActors, glyphs: glyphs).render(
                in: buffer.area, into: &buffer)
        }
        if state.showHelp {
            HelpOverlay(title: "Keys", lines: KeyMap.helpLines(on: state.keyScreen, capabilities: capabilities), glyphs: glyphs)
                .render(in: buffer.area, into: &buffer)
        }
        return buffer
    }

    /// The picker lists what can be opened now: a program that exited leaves it within a
    /// second (the picker is drawn at least once a second).
    private func refreshChoicesIfDue() {
        guard let refreshChoices, ContinuousClock.now - lastRefresh >= .milliseconds(500) else { return }
        lastRefresh = ContinuousClock.now
        let old = choices.map(\.name)
        choices = refreshChoices()
        state.choicesChanged(to: choices.map(\.name), from: old)
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

    /// Applies one key: the state decides, this carries out the command and hands what it
    /// came to back to the state. Returns true for quit. Public so tests can drive the app
    /// without a loop.
    @discardableResult
    public func press(_ key: Key) -> Bool {
        let (next, command) = state.handling(key, source: facts)
        state = next
        if let outcome = carryOut(command) { state.handle(outcome) }
        return command == .quit
    }

    /// Carries out `command` on the source (or the screen); returns what it came to when
    /// the state shows that.
    private func carryOut(_ command: AppCommand) -> CommandOutcome? {
        switch command {
        case .none, .quit: return nil
        case .open(let index): open(index, values: [:])
        case .close: close()
        case .pause: source?.abilities.pace?.pause()
        case .resume: source?.abilities.pace?.resume()
        case .restart:
            source?.abilities.restart?.restart()
            nextSnapshot = .now  // what moved shows at once, not after the next snapshot's wait
        case .setSpeed(let speed):
            source?.abilities.pace?.setSpeed(speed)
            return .speed(source?.speed ?? speed)
        case .setKnob(let name, let value):
            guard let source, let spec = source.knobs.first(where: { $0.name == name }) else { return nil }
            let old = source.knobValues[name] ?? spec.defaultValue
            let answer = source.setKnob(name, to: value)
            return .knob(spec, from: old, answer: answer, pane: spec.actsOn ?? source.panes.first, up: value >= old)
        case .setEventInterest(let interest): source?.setEventInterest(interest)
        case .step(let events):
            source?.abilities.seek?.step(by: events)
            nextSnapshot = .now
        case .seek(let seconds):
            source?.abilities.seek?.seek(toSeconds: seconds)
            nextSnapshot = .now
        case .saveScreen:
            // The frame as it is now (the key's own note is not in it).
            switch ScreenFile.save(frame()) {
            case .success(let path): return .screenSaved(path: path)
            case .failure(let error): return .screenNotSaved(why: error.message)
            }
        case .seekWarning(let forward):
            nextSnapshot = .now
            return .warning(forward: forward, found: source?.abilities.seek?.seekWarning(forward: forward) == true)
        }
        return nil
    }

    /// The actors a snapshot lists for this screen: the rows of the actors pane from a
    /// screen above its selection to a page past it (what the pane and `facts` sort), in
    /// pages of 32 so that moving the selection reads again only now and then; every actor
    /// while their histories are all kept; the one whose detail is open.
    public var actorQuery: ActorQuery {
        let height = backend.size.height
        let offset = max(0, state.actorSelection - height) / 32 * 32
        let rows = state.actorSelection + height + 11 - offset
        var named: [String] = []
        if case .actorDetail(let name) = state.screen { named.append(name) }
        return ActorQuery(
            order: state.actorSort, first: (rows + 31) / 32 * 32, offset: offset, everyUpTo: DashboardHistory.actorHistoryLimit,
            named: named)
    }

    /// What the state needs to know about the source to handle a key.
    var facts: SourceFacts {
        var facts = SourceFacts()
        guard let source else { return facts }
        facts.knobs = source.knobs
        facts.values = source.knobValues
        facts.capabilities = source.capabilities
        facts.panes = source.panes
        facts.status = source.status
        facts.speed = source.speed
        let before = lastActors.listedBefore, offset = lastActors.offset
        facts.actors = state.actorSort.window(state.actorSelection + 11 - offset, listedBefore: before, of: lastSnapshot.actors)
            .map(\.name)
        facts.actorsOffset = offset
        facts.actorCount = lastActors.count
        facts.queueCount = lastSnapshot.queues.count
        facts.semaphoreCount = lastSnapshot.semaphores.count
        let shown = state.shownEvents(lastSnapshot)
        facts.logCount = shown.count
        facts.logLines = shown.map(describe)
        facts.blockers = lastSnapshot.pool?.blockers.map(\.location) ?? []
        return facts
    }

    /// Opens picker entry `index` with starting knob values (what Enter in the picker does);
    /// the state hears whether it opened (a program that went away did not: the picker says why).
    public func open(_ index: Int, values: [String: Double]) {
        guard choices.indices.contains(index) else { return }
        close()
        do {
            source = try choices[index].open(values)
            lastSnapshot = Snapshot()
            nextSnapshot = .now
            state.handle(.opened(index))
        } catch {
            state.handle(.notOpened(index, why: error.reason))
        }
    }

    /// Stops the open source for good, waiting at most `stopLimit` for it (without the
    /// cooperative pool): what quitting does after the loop ends.
    public func quit() { close(waiting: true) }

    /// Stops the source for good. Leaving for the picker does not wait for it (a user
    /// mashing Esc and Enter would queue up waits); quitting waits at most `stopLimit`.
    private func close(waiting: Bool = false) {
        guard let source else { return }
        self.source = nil
        source.stop(waitingAtMost: waiting ? Self.stopLimit : .zero)
    }
}
