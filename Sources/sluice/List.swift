import AsyncPatterns
import ArgumentParser
import Scenarios
import TUI

/// `sluice list`: names and summaries (with `--knobs`, every knob and its range).
struct List: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the scenarios.")

    @Flag(name: .long, help: "Show each scenario's knobs with their ranges.")
    var knobs = false

    func run() {
        let width = Catalog.names.map(\.count).max() ?? 0
        for scenario in Catalog.all {
            print(scenario.name.padded(toAtLeast: width + 2) + scenario.summary)
            if knobs {
                for knob in scenario.knobs { print("    " + knobHelpLine(knob)) }
            }
        }
    }
}

func knobHelpLine(_ knob: KnobSpec) -> String {
    let unit = knob.unit.isEmpty ? "" : " \(knob.unit)"
    return "--\(knob.name) \(knob.rangeText)\(unit) (default \(knob.format(knob.defaultValue))): \(knob.summary)"
}
