import NIOCore

/// Frames on the agent's socket: a 4-byte big-endian length, then that many bytes of
/// payload (one message, see `PROTOCOL.md`). A length of 0 or above the reader's limit is
/// a broken peer, not a message to wait for.
public enum Frame {
    /// The most a viewer may send in one frame: its messages are a few dozen bytes.
    public static let viewerLimit = 64 * 1024
    /// The most an agent may send in one frame: a snapshot of many patterns.
    public static let agentLimit = 64 * 1024 * 1024

    /// Takes one whole frame's payload off the front of `buffer`, or nil while it holds
    /// only part of one; throws on a length no peer of ours sends.
    public static func next(from buffer: inout ByteBuffer, limit: Int) throws(WireError) -> ByteBuffer? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return nil }
        guard length > 0 else { throw .badFrame("a frame of length 0") }
        guard Int(length) <= limit else {
            throw .badFrame("a frame of \(length) bytes, over the limit of \(limit)")
        }
        guard buffer.readableBytes >= 4 + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: 4)
        return buffer.readSlice(length: Int(length))
    }

    /// `payload` with its length in front.
    public static func encode(_ payload: some Collection<UInt8>, into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt32(payload.count))
        buffer.writeBytes(payload)
    }

    /// A buffer holding `payload` as one frame, ready to write to a channel.
    public static func buffer(_ payload: [UInt8], allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: payload.count + 4)
        encode(payload, into: &buffer)
        return buffer
    }
}

/// Splits the byte stream into frames for the handlers after it.
public struct FrameDecoder: ByteToMessageDecoder, Sendable {
    public typealias InboundOut = ByteBuffer
    let limit: Int

    public init(limit: Int) { self.limit = limit }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try Frame.next(from: &buffer, limit: limit) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    public mutating func decodeLast(
        context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool
    ) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        // What is left is a frame cut short by the peer going away: nothing to deliver.
        return .needMoreData
    }
}

/// What can go wrong between an agent and a viewer, each with the sentence a user reads.
public enum WireError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A frame no peer of ours sends (zero or huge length).
    case badFrame(String)
    /// A frame whose payload is not a message of the protocol.
    case badMessage(String)
    /// The other side speaks no version we speak.
    case versionMismatch(String)
    /// A message out of order, e.g. anything before hello.
    case unexpected(String)

    public var description: String {
        switch self {
        case .badFrame(let why): "bad frame: \(why)"
        case .badMessage(let why): "bad message: \(why)"
        case .versionMismatch(let why): "protocol version mismatch: \(why)"
        case .unexpected(let why): "unexpected message: \(why)"
        }
    }
}
