import AsyncPatterns

/// Which frames of a captured stack are the program's own code, and which belong to the
/// machinery every job runs on (the Swift runtime, libdispatch, libc, the unwinder, the
/// doctor itself): those are folded away (kept, marked) so the culprit shows first.
public enum Folding {
    /// File name prefixes of the libraries whose frames fold.
    public static let foldedLibraries = [
        "libc.so", "libc-", "libpthread", "ld-linux", "ld-musl", "libm.so", "librt", "libdl",
        "libdispatch", "libBlocksRuntime", "libswift_Concurrency", "libswiftCore", "libswiftDispatch",
        "libswiftSynchronization", "libswift_", "libgcc_s", "libstdc++", "linux-vdso", "linux-gate",
    ]

    /// Symbol prefixes that fold wherever they are: compiler glue around the real code, and the
    /// doctor's own signal handler.
    public static let foldedSymbols = [
        "reabstraction thunk", "thunk for", "partial apply for", "merged ", "outlined ", "sluice_capture", "on_sigprof",
        "__swift_", "swift_job_run", "swift::",
        // A sanitizer's runtime linked into the program (ThreadSanitizer calls our handler
        // from its own): C++ names, not demangled here.
        "_ZN6__tsan", "_ZN11__sanitizer", "_Z10sighandler", "__tsan", "__sanitizer", "__interceptor",
    ]

    /// Whether `module` (a path) is one of the libraries whose frames all fold.
    public static func isFoldedLibrary(_ module: String) -> Bool {
        let file = module.split(separator: "/").last.map(String.init) ?? module
        return foldedLibraries.contains(where: { file.hasPrefix($0) })
    }

    /// Whether a frame in `module` (a path) named `symbol` is machinery, not the program's code.
    public static func isFolded(module: String, symbol: String?) -> Bool {
        if isFoldedLibrary(module) { return true }
        guard let symbol else { return false }
        if foldedSymbols.contains(where: { symbol.hasPrefix($0) }) { return true }
        // The standard library's generics, specialized into the program: the program's
        // function that called them is the place.
        if symbol.hasPrefix("Swift.") { return true }
        return symbol.hasPrefix("generic specialization <") && symbol.contains("> of Swift.")
    }

    /// Marks each frame folded or not.
    public static func fold(_ frames: [PoolFrame]) -> [PoolFrame] {
        frames.map { frame in
            var f = frame
            f.folded = isFolded(module: frame.module, symbol: frame.symbol)
            return f
        }
    }

    /// Where a folded stack was: the first frame of the program's code, as a key and a name
    /// (the function, or `file+0xoffset` with no symbol); nil when the stack holds none
    /// (an idle pool thread waiting for work, or runtime code only).
    public static func location(of frames: [PoolFrame], functionStart: (PoolFrame) -> UInt64?) -> (key: String, name: String)? {
        guard let culprit = frames.first(where: { !$0.folded }) else { return nil }
        let file = culprit.module.split(separator: "/").last.map(String.init) ?? culprit.module
        if let symbol = culprit.symbol {
            let start = functionStart(culprit) ?? culprit.offset
            return ("\(culprit.module)+\(start)", symbol)
        }
        return ("\(culprit.module)+\(culprit.offset)", "\(file)+0x\(String(culprit.offset, radix: 16))")
    }
}
