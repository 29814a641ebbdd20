#if canImport(Glibc)
import Glibc
#endif
import AsyncPatterns
import CPoolDoctor

/// The files loaded in this process (executable and libraries) and where, read with
/// `dl_iterate_phdr`: an address becomes a file and an offset, which any symbolizer with
/// the file at hand can name. Read off the signal path, on the doctor's thread.
struct LoadedModules {
    struct Module {
        var path: String
        var base: UInt
        var ranges: [Range<UInt>]
    }

    var modules: [Module] = []

    /// The modules loaded now.
    static func read() -> LoadedModules {
        final class Box { var modules: [Module] = [] }
        let box = Box()
        withExtendedLifetime(box) {
            sluice_iterate_segments(
                { name, base, start, end, context in
                    guard let context else { return }
                    let box = Unmanaged<Box>.fromOpaque(context).takeUnretainedValue()
                    let path = name.map { String(cString: $0) } ?? ""
                    if let last = box.modules.last, last.base == base, last.path == path || path.isEmpty {
                        box.modules[box.modules.count - 1].ranges.append(start..<end)
                    } else {
                        box.modules.append(Module(path: path, base: base, ranges: [start..<end]))
                    }
                }, Unmanaged.passUnretained(box).toOpaque())
        }
        let executable = executablePath()
        for i in box.modules.indices where box.modules[i].path.isEmpty { box.modules[i].path = executable }
        return LoadedModules(modules: box.modules)
    }

    static func executablePath() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return "(executable)" }
        return String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The module holding `address` and the offset into it.
    func locate(_ address: UInt) -> (path: String, offset: UInt64)? {
        for module in modules where module.ranges.contains(where: { $0.contains(address) }) {
            return (module.path, UInt64(address &- module.base))
        }
        return nil
    }
}

/// The function symbols of one ELF file (`.symtab`, else `.dynsym`): start, size and where
/// the name is; names are read from the file when asked. The executable's Swift functions
/// are local symbols, which `dladdr` cannot see.
final class SymbolTable {
    struct Function {
        var start: UInt64
        var size: UInt64
        var nameOffset: UInt64
    }

    let path: String
    private var functions: [Function] = []
    private var stringsOffset: UInt64 = 0
    private var names: [UInt64: String] = [:]

    init(path: String) {
        self.path = path
        load()
    }

    /// The function containing `offset`: its start and demangled name.
    func function(at offset: UInt64) -> (start: UInt64, name: String)? {
        var low = 0
        var high = functions.count
        while low < high {
            let mid = (low + high) / 2
            if functions[mid].start <= offset { low = mid + 1 } else { high = mid }
        }
        guard low > 0 else { return nil }
        let f = functions[low - 1]
        guard offset < f.start + max(f.size, 1) else { return nil }
        if let name = names[f.start] { return (f.start, name) }
        let name = demangle(readName(at: f.nameOffset))
        if names.count < 4096 { names[f.start] = name }
        return (f.start, name)
    }

    private func load() {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        guard let header = read(fd, at: 0, count: 64), header.count == 64, header[0] == 0x7f, header[1] == 0x45,
            header[4] == 2  // 64-bit
        else { return }
        let sectionsAt = word(header, 0x28, 8)
        let sectionSize = word(header, 0x3A, 2)
        let sectionCount = word(header, 0x3C, 2)
        guard sectionSize == 64, sectionCount > 0, sectionCount < 65_536,
            let sections = read(fd, at: sectionsAt, count: Int(sectionCount * 64))
        else { return }
        func section(_ i: Int) -> (type: UInt64, offset: UInt64, size: UInt64, link: UInt64) {
            let at = i * 64
            return (word(sections, at + 4, 4), word(sections, at + 0x18, 8), word(sections, at + 0x20, 8), word(sections, at + 0x28, 4))
        }
        let all = (0..<Int(sectionCount)).map(section)
        // SHT_SYMTAB (2) names every function; SHT_DYNSYM (11) only exported ones.
        guard let table = all.first(where: { $0.type == 2 }) ?? all.first(where: { $0.type == 11 }),
            Int(table.link) < all.count, table.size < 512 << 20
        else { return }
        stringsOffset = all[Int(table.link)].offset
        let chunk = 24 * 8192
        var at: UInt64 = 0
        while at < table.size {
            let n = Int(min(UInt64(chunk), table.size - at))
            guard let bytes = read(fd, at: table.offset + at, count: n) else { break }
            var i = 0
            while i + 24 <= bytes.count {
                let info = bytes[i + 4]
                let value = word(bytes, i + 8, 8)
                if info & 0xf == 2, value != 0 {  // STT_FUNC
                    functions.append(Function(start: value, size: word(bytes, i + 16, 8), nameOffset: word(bytes, i, 4)))
                }
                i += 24
            }
            at += UInt64(n)
        }
        functions.sort { $0.start < $1.start }
    }

    private func readName(at offset: UInt64) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return "?" }
        defer { close(fd) }
        var name: [UInt8] = []
        var at = stringsOffset + offset
        while name.count < 16_384, let bytes = read(fd, at: at, count: 512), !bytes.isEmpty {
            if let end = bytes.firstIndex(of: 0) {
                name += bytes[..<end]
                break
            }
            name += bytes
            at += UInt64(bytes.count)
        }
        return String(decoding: name, as: UTF8.self)
    }

    private func read(_ fd: Int32, at offset: UInt64, count: Int) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: count)
        let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, off_t(offset)) }
        guard n >= 0 else { return nil }
        return Array(bytes[..<n])
    }

    private func word(_ bytes: [UInt8], _ at: Int, _ size: Int) -> UInt64 {
        var value: UInt64 = 0
        for i in 0..<size where at + i < bytes.count { value |= UInt64(bytes[at + i]) << (8 * UInt64(i)) }
        return value
    }
}

@_silgen_name("swift_demangle")
private func swiftDemangle(
    _ mangled: UnsafePointer<CChar>?, _ length: Int, _ output: UnsafeMutablePointer<CChar>?,
    _ outputSize: UnsafeMutablePointer<Int>?, _ flags: UInt32
) -> UnsafeMutablePointer<CChar>?

/// A Swift symbol in readable form (others as they are), through the runtime's demangler.
func demangle(_ name: String) -> String {
    guard name.hasPrefix("$s") || name.hasPrefix("_$s") || name.hasPrefix("$S") else { return name }
    let demangled = name.withCString { swiftDemangle($0, strlen($0), nil, nil, 0) }
    guard let demangled else { return name }
    defer { free(demangled) }
    return String(cString: demangled)
}

/// Turns raw return addresses into frames (file, offset, function), folding runtime frames.
/// Keeps the symbol tables it read; bounded by the number of files loaded.
final class Symbolizer {
    private var modules = LoadedModules.read()
    private var tables: [String: SymbolTable] = [:]

    /// Frames for a stack of addresses, innermost first. The first is where the thread was
    /// interrupted; the others are return addresses, looked up one byte back (the call).
    func frames(_ addresses: [UInt]) -> [PoolFrame] {
        addresses.enumerated().map { i, address in
            let lookup = i == 0 ? address : address &- 1
            var located = modules.locate(lookup)
            if located == nil {
                modules = LoadedModules.read()
                located = modules.locate(lookup)
            }
            guard let (path, offset) = located else {
                return PoolFrame(module: "?", offset: UInt64(address), folded: true)
            }
            // Frames of the runtime's libraries fold whatever their name: their symbol tables
            // are not read here (the viewer's symbolizer names them for the full stack).
            if Folding.isFolded(module: path, symbol: nil), Folding.isFoldedLibrary(path) {
                return PoolFrame(module: path, offset: offset, folded: true)
            }
            let symbol = table(path).function(at: offset)?.name
            return PoolFrame(module: path, offset: offset, symbol: symbol, folded: Folding.isFolded(module: path, symbol: symbol))
        }
    }

    /// Reads the executable's symbol table now (the largest, and where the culprits are).
    func warm() {
        _ = table(LoadedModules.executablePath())
    }

    /// The start of the function a frame is in (so samples inside one function aggregate).
    func functionStart(_ frame: PoolFrame) -> UInt64? {
        table(frame.module).function(at: frame.offset)?.start
    }

    private func table(_ path: String) -> SymbolTable {
        if let table = tables[path] { return table }
        let table = SymbolTable(path: path)
        tables[path] = table
        return table
    }
}
