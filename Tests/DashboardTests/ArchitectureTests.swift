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
                    // `@testable import X`, `internal import X`, `public import X` count too.
                    let words = line.split(separator: " ").filter { !$0.hasPrefix("@") }
                        .drop { ["public", "package", "internal", "fileprivate", "private"].contains($0) }
                    if words.count >= 2, words.first == "import" { imported.insert(String(words.dropFirst().first!)) }
                }
            }
            #expect(
                imported.subtracting(Self.system) == listed, "\(target): the code imports \(imported.subtracting(Self.system).sorted())")
        }
    }
}
