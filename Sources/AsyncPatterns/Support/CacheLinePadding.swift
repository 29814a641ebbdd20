/// 64 bytes of nothing: a stored property of this type keeps the stored properties before
/// and after it on different cache lines (Swift lays out a class's stored properties in
/// order), so counters written by different threads do not share a line.
@usableFromInline struct CacheLinePadding: Sendable {
    @usableFromInline let bytes: (Int, Int, Int, Int, Int, Int, Int, Int) = (0, 0, 0, 0, 0, 0, 0, 0)
    @inlinable init() {}
}
