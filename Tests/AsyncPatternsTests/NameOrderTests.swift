import Testing

@testable import AsyncPatterns

/// The actor index's name orders with integers (issue #23) against String's own comparisons,
/// on names made to trip them.
@Suite struct NameOrderTests {
    /// Names that share prefixes of 8 and 16 bytes, begin one another, hold NUL and DEL,
    /// numbers with leading zeros, signs and beyond 64 bits, and Unicode (canonically equal
    /// spellings, a Kelvin sign equal to "K", combining marks after an ASCII letter).
    static let adversarial: [String] = {
        var names = [
            "", "a", "a\0", "a\0b", "ab", "abcdefgh", "abcdefg", "abcdefghi", "abcdefgh\0", "abcdefghabcdefgh",
            "abcdefghabcdefg", "abcdefghabcdefghX", "abcdefghabcdefgh\u{7F}", "\u{7F}", "actor-1", "actor-2", "actor-10",
            "actor-010", "actor-0010", "actor-+10", "actor-", "actor", "actor-99999999999999999999",
            "actor-99999999999999999998", "actor-9223372036854775807", "-5", "-10", "x-1x", "x-1", "x-2", "x-10",
            "é-1", "e\u{301}-1", "é-2", "e\u{301}-10", "\u{212A}-3", "K-2", "K-10", "e\u{301}", "é", "e", "f",
            "日本-1", "日本-10", "日本-2", "🙂", "a🙂", "\r\n", "\n", "a-٣", "a-3", "a-1e3", "AB-1", "ab-1",
            "same-name", "same-name", "long-common-prefix-of-many-names-7", "long-common-prefix-of-many-names-70",
            "long-common-prefix-of-many-names-8", "long-common-prefix-of-many-names-x",
        ]
        names += (0..<300).map { "actor-\($0 * 37 % 1000)" }
        names += (0..<40).map { "worker.stage-\($0)-lane-\($0 % 3)" }
        return names
    }()

    static func plainOrder(_ names: [String]) -> [String] {
        NameOrder.plain(Array(names.indices.map(Int32.init))) { names[Int($0)] }.map { names[Int($0)] }
    }

    @Test func plainOrderIsStringOrder() {
        let names = Self.adversarial
        var rng = SplitMix64(seed: 23)
        for round in 0..<20 {
            let shuffled = names.shuffled(using: &rng)
            let sorted = Self.plainOrder(shuffled)
            #expect(sorted == shuffled.sorted(), "round \(round)")
            // Strictly: no name after one it sorts before (== puts canonically equal
            // spellings together, which `sorted` may order either way).
            for (a, b) in zip(sorted, sorted.dropFirst()) { #expect(!(b < a), "\(a.debugDescription), \(b.debugDescription)") }
        }
        #expect(Self.plainOrder([]) == [])
        #expect(Self.plainOrder(["only"]) == ["only"])
    }

    /// Many names that agree in their first 8, 16 and 24 bytes, and ASCII names beside
    /// non-ASCII ones (merged with String's `<`).
    @Test func plainOrderOfManyLongNames() {
        var rng = SplitMix64(seed: 5)
        let names = (0..<3_000).map { i -> String in
            let stem = ["pipeline.stage.worker-", "pipeline.stage.worker-lane-", "pipeline.stage.wörker-", "p"][i % 4]
            return stem + String(rng.next() % 500) + (i % 5 == 0 ? "-\(i)" : "")
        }
        #expect(Self.plainOrder(names) == names.sorted())
    }

    static func naturalOrder(_ names: [String]) -> [String] {
        let plain = NameOrder.plain(Array(names.indices.map(Int32.init))) { names[Int($0)] }
        return NameOrder.natural(plain) { names[Int($0)] }.map { names[Int($0)] }
    }

    /// The split on bytes (ASCII names) finds what the split on characters finds.
    @Test func splitOnBytesIsSplitOnCharacters() {
        for name in Self.adversarial + ["a-+", "a-+0", "a--1", "a-1-", "-", "--", "a-\r\n", "\r\n-7", "a-0009223372036854775807"] {
            let key = NaturalNames.Key(name)
            let dash = name.lastIndex(of: "-")
            #expect(key.prefix == dash.map { name[..<$0] }, "\(name.debugDescription)")
            #expect(key.number == dash.flatMap { Int(name[name.index(after: $0)...]) }, "\(name.debugDescription)")
        }
    }

    /// Names whose natural comparison is an order (no name lies, in plain order, between
    /// names of one group that their numbers put the other way round): the index's order is
    /// the one sorting with `String.compare(naturally:)` gives.
    @Test func naturalOrderIsStringsWhereItIsAnOrder() {
        var rng = SplitMix64(seed: 9)
        for round in 0..<5 {
            var names = (0..<2_000).map { i -> String in
                switch i % 7 {
                case 0: "actor-\(rng.next() % 100_000)"
                case 1: "actor-\(String(repeating: "0", count: Int(rng.next() % 3)))\(rng.next() % 50)"
                case 2: "w\(rng.next() % 1_000)"
                case 3: "stage.worker-\(rng.next() % 300)"
                case 4: "é-\(rng.next() % 30)"
                case 5: "a-\(rng.next() % 5)-\(rng.next() % 20)"
                default: "huge-\(rng.next())\(rng.next())"
                }
            }
            names += ["actor", "actor-", "actor-x", "actor-+7", "w", "é", "e\u{301}x", "stage.worker-"]
            names.shuffle(using: &rng)
            #expect(Self.naturalOrder(names) == names.sorted { $0.compare(naturally: $1) }, "round \(round)")
        }
        #expect(
            Self.naturalOrder(["actor-10", "actor-9", "actor-x", "actor-+9", "actor-09"]) == [
                "actor-+9", "actor-09", "actor-9", "actor-10", "actor-x",
            ])
    }

    /// Where natural comparison is no order, the index's order still puts every group's
    /// names in the order of their numbers and leaves every other name where plain order
    /// has it.
    @Test func naturalOrderWhereComparisonGoesRound() {
        // Each before the next, and the last before the first.
        let cycle = ["p-5", "p-12", "p-12-3"]
        #expect(cycle[0].compare(naturally: cycle[1]) && cycle[1].compare(naturally: cycle[2]) && cycle[2].compare(naturally: cycle[0]))
        #expect(Self.naturalOrder(cycle) == ["p-5", "p-12-3", "p-12"])
        let note = ["a-2", "a-10", "a-1x"]
        #expect(note[0].compare(naturally: note[1]) && note[1].compare(naturally: note[2]) && note[2].compare(naturally: note[0]))
        #expect(Self.naturalOrder(note) == ["a-2", "a-1x", "a-10"])

        let names = Self.adversarial
        let plain = Self.plainOrder(names)
        let natural = Self.naturalOrder(names)
        #expect(natural.sorted() == names.sorted())
        let grouped = { (name: String) -> Bool in
            let key = NaturalNames.Key(name)
            return key.prefix != nil && key.number != nil
        }
        for (i, name) in natural.enumerated() {
            if !grouped(name) { #expect(plain[i] == name, "\(name.debugDescription) keeps its place") }
            for other in natural[(i + 1)...] where grouped(other) {
                let (a, b) = (NaturalNames.Key(name), NaturalNames.Key(other))
                guard a.number != nil, a.prefix == b.prefix else { continue }
                #expect(!other.compare(naturally: name), "\(name.debugDescription) before \(other.debugDescription)")
            }
        }
    }

    /// Numbers equal as numbers ("a-5", "a-05") go by plain order, so the order is total.
    @Test func equalNumbersGoByPlainOrder() {
        #expect("a-05".compare(naturally: "a-5"))
        #expect(!"a-5".compare(naturally: "a-05"))
        #expect("a-+5".compare(naturally: "a-5"))
        #expect("a-9".compare(naturally: "a-10"))
        #expect(!"a-10".compare(naturally: "a-9"))
        // Beyond 64 bits a suffix is no number: plain order.
        #expect("a-100000000000000000000".compare(naturally: "a-9"))
    }
}
