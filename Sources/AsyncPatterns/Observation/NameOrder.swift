/// The actor index's two name orders for many names at once (issue #23), with integer
/// comparisons where String's would be slow (the index sorts 100,000 names at its first
/// read, in the snapshot a screen waits for).
enum NameOrder {
    /// `slots` in String's `<` order of `name(slot)` (identical names in any order).
    ///
    /// String's `<` compares the names' Unicode scalars (after normalization), which for
    /// ASCII names is their bytes in order: those sort by their bytes, eight at a time as
    /// integers (a run of equal eight goes on to the next eight), and the few others with
    /// String's `<`, merged in with it.
    static func plain(_ slots: [Int32], name: (Int32) -> String) -> [Int32] {
        var ascii: [Item] = []
        ascii.reserveCapacity(slots.count)
        var other: [Int32] = []
        for s in slots {
            var n = name(s)
            if let item = n.withUTF8({ Item(slot: s, $0) }) { ascii.append(item) } else { other.append(s) }
        }
        ascii.withUnsafeMutableBufferPointer { sortBytes($0, 0..<$0.count, depth: 0, name: name) }
        guard !other.isEmpty else { return ascii.map(\.slot) }
        other.sort { name($0) < name($1) }
        var merged: [Int32] = []
        merged.reserveCapacity(slots.count)
        var i = 0, j = 0
        while i < ascii.count, j < other.count {
            if name(other[j]) < name(ascii[i].slot) {
                merged.append(other[j])
                j += 1
            } else {
                merged.append(ascii[i].slot)
                i += 1
            }
        }
        merged += ascii[i...].lazy.map(\.slot)
        merged += other[j...]
        return merged
    }

    /// An ASCII name's bytes `8 * depth ..< 8 * depth + 8` as one integer (zeros past its end,
    /// so a name sorts before those it begins), and its length.
    struct Item {
        var chunk: UInt64
        let slot: Int32
        let length: Int32

        /// Nil when `bytes` are not all ASCII.
        init?(slot: Int32, _ bytes: UnsafeBufferPointer<UInt8>) {
            guard NaturalNames.Key.isASCII(bytes) else { return nil }
            self.slot = slot
            length = Int32(bytes.count)
            chunk = Self.chunk(bytes, depth: 0)
        }

        static func chunk(_ bytes: UnsafeBufferPointer<UInt8>, depth: Int) -> UInt64 {
            var value: UInt64 = 0
            let start = 8 * depth
            for i in start..<(start + 8) { value = value << 8 | (i < bytes.count ? UInt64(bytes[i]) : 0) }
            return value
        }
    }

    /// Sorts `items[range]`, whose names' first `8 * depth` bytes are equal, by their bytes.
    private static func sortBytes(_ items: UnsafeMutableBufferPointer<Item>, _ range: Range<Int>, depth: Int, name: (Int32) -> String) {
        items[range].sort { $0.chunk < $1.chunk }
        var i = range.lowerBound
        while i < range.upperBound {
            var j = i + 1
            while j < range.upperBound, items[j].chunk == items[i].chunk { j += 1 }
            if j - i > 1 {
                // Equal so far: the names that end here go first, shorter first (each begins
                // the next); the others go on to their next eight bytes.
                let end = Int32(8 * (depth + 1))
                let longer = items[i..<j].partition { $0.length > end }
                items[i..<longer].sort { $0.length < $1.length }
                if j - longer > 1 {
                    for k in longer..<j {
                        var n = name(items[k].slot)
                        items[k].chunk = n.withUTF8 { Item.chunk($0, depth: depth + 1) }
                    }
                    sortBytes(items, longer..<j, depth: depth + 1, name: name)
                }
            }
            i = j
        }
    }

    /// `sorted`, slots in plain order, put in natural order (`String.compare(naturally:)`):
    /// the names that differ only in a number after their last `-` (a group) take the
    /// places their group has in plain order, in the order of their numbers (then of their
    /// places); any other name keeps its place.
    ///
    /// Where natural comparison is an order (no name lies, in plain order, between members
    /// of a group that their numbers put the other way round: see `NameOrderTests`), this is
    /// the order sorting with it gives, at the cost of sorting each group by integers. Where it
    /// is not (`p-5`, `p-12`, `p-12-3`: each comes before the next, and the last before the
    /// first), sorting with it gives no order to speak of; this one still orders every
    /// group by its numbers, and everything else as plain order does.
    static func natural(_ sorted: [Int32], name: (Int32) -> String) -> [Int32] {
        // Each place's group (-1: none) and number.
        var group = [Int32](repeating: -1, count: sorted.count)
        var number = [Int](repeating: 0, count: sorted.count)
        var groups: [Substring: Int32] = [:]
        // In plain order a group's names mostly come together: the last group is tried
        // first, on the bytes when it and the name are ASCII (equal bytes, equal prefixes).
        var last: (name: String, dash: Int, group: Int32)?
        for (place, s) in sorted.enumerated() {
            let n = name(s)
            let split = n.utf8.withContiguousStorageIfAvailable { bytes -> (dash: Int, number: Int, sameAsLast: Bool)?? in
                guard let split = NaturalNames.Key.split(bytes) else { return nil }
                guard let dash = split.dash, let number = split.number else { return .some(nil) }
                let same =
                    last.map { last in
                        last.dash == dash
                            && last.name.utf8.withContiguousStorageIfAvailable {
                                $0[..<dash].elementsEqual(bytes[..<dash])
                            } == true
                    } ?? false
                return (dash, number, same)
            }
            if let split = split ?? nil {
                // ASCII.
                guard let split else { continue }
                number[place] = split.number
                if split.sameAsLast, let last {
                    group[place] = last.group
                    continue
                }
                let prefix = n[..<n.utf8.index(n.utf8.startIndex, offsetBy: split.dash)]
                let g = groups[prefix, default: Int32(groups.count)]
                groups[prefix] = g
                group[place] = g
                last = (n, split.dash, g)
                continue
            }
            let key = NaturalNames.Key(n)
            guard let prefix = key.prefix, let value = key.number else { continue }
            let g = groups[prefix, default: Int32(groups.count)]
            groups[prefix] = g
            group[place] = g
            number[place] = value
            last = nil
        }
        // The places of each group, in plain order (a counting sort by group).
        var start = [Int](repeating: 0, count: groups.count + 1)
        for g in group where g >= 0 { start[Int(g) + 1] += 1 }
        for g in 0..<groups.count { start[g + 1] += start[g] }
        var places = [Int32](repeating: 0, count: start[groups.count])
        var next = start
        for (place, g) in group.enumerated() where g >= 0 {
            places[next[Int(g)]] = Int32(place)
            next[Int(g)] += 1
        }
        var result = sorted
        for g in 0..<groups.count where start[g + 1] - start[g] > 1 {
            let groupPlaces = places[start[g]..<start[g + 1]]
            // Shorter numbers first: for names without leading zeros, that leaves them in
            // order already (plain order is numeric among numbers of one length), and the
            // sort below only checks.
            var byLength = [Int](repeating: 0, count: 21)
            for p in groupPlaces { byLength[digits(number[Int(p)])] += 1 }
            for length in 1...20 { byLength[length] += byLength[length - 1] }
            var members = [(number: Int, place: Int32)](repeating: (0, 0), count: groupPlaces.count)
            for p in groupPlaces {
                let length = digits(number[Int(p)]) - 1
                members[byLength[length]] = (number[Int(p)], p)
                byLength[length] += 1
            }
            members.sort { ($0.number, $0.place) < ($1.number, $1.place) }
            for (k, p) in groupPlaces.enumerated() { result[Int(p)] = sorted[Int(members[k].place)] }
        }
        return result
    }

    /// Decimal digits of a non-negative number.
    private static func digits(_ n: Int) -> Int {
        var n = n, count = 1
        while n >= 10 {
            n /= 10
            count += 1
        }
        return count
    }
}
