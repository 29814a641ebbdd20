import Foundation
import Testing

/// README's "Architecture" table says what each target imports: the code agrees.
@Suite struct ArchitectureTests {
    static let system: Set<String> = ["Glibc", "Darwin", "Musl", "Foundation", "FoundationEssentials", "Synchronization"]

    @Test func theModuleTableInTheReadmeIsTrue() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let section = try #require(readme.components(separatedBy: "\n## Architecture\n").dropFirst().first)
            .components(separatedBy: "\n## ")[0]
        let rows = section.split(separator: "\n").filter { $0.hasPrefix("| `") }
        #expect(rows.count >= 14)
        for row in rows {
            let cells = row.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            let target = cells[0].trimmingCharacters(in: CharacterSet(charactersIn: "`"))
            let listed = Set(cells[2] == "—" ? [] : cells[2].components(separatedBy: ", "))
            let folder = root.appendingPathComponent("Sources/\(target)")
            let files = try #require(FileManager.default.enumerator(atPath: folder.path), "no Sources/\(target)")
                .compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }
            var imported: Set<String> = []
            for file in files {
                let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
                for line in text.split(separator: "\n") {
                    let words = line.split(separator: " ").filter { !$0.hasPrefix("@") }
                    if words.count >= 2, words[0] == "import" { imported.insert(String(words[1])) }
                }
            }
            #expect(
                imported.subtracting(Self.system) == listed, "\(target): the code imports \(imported.subtracting(Self.system).sorted())")
        }
    }
}
