// A program as a service would be written: patterns doing work, their numbers exported
// through swift-metrics to swift-prometheus, served at http://127.0.0.1:PORT/metrics, all in
// one ServiceGroup that SIGTERM and SIGINT shut down gracefully.
//
// usage: MetricsServer [--port N]   (default 0: a free port, printed on the first line)

#if canImport(Glibc)
import Glibc
#endif
import AsyncPatterns
import AsyncPatternsMetrics
import AsyncPatternsServices
import Logging
import Metrics
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus
import ServiceLifecycle

/// A line to stdout at once (not buffered: whoever started us waits for the first one).
func say(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    var offset = 0
    while offset < bytes.count {
        let n = bytes[offset...].withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
        if n <= 0 { return }
        offset += n
    }
}

// Histograms with buckets that fit queue waits (microseconds to seconds); swift-prometheus's
// default buckets start at 5 ms.
let prometheus = PrometheusCollectorRegistry()
var factory = PrometheusMetricsFactory(registry: prometheus)
factory.defaultDurationHistogramBuckets = PatternMetrics.latencyBuckets
MetricsSystem.bootstrap(factory)

var port = 0
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    guard argument == "--port", let value = arguments.popFirst().flatMap(Int.init), (0...65535).contains(value) else {
        say("usage: MetricsServer [--port N]   (N in 0...65535; 0: any free port)")
        exit(64)
    }
    port = value
}

// The work: a producer puts jobs in a bounded queue in bursts faster than two consumers
// take them, then rests (so the queue's depth rises and falls, and its items wait from
// microseconds to a fraction of a second); each job holds a permit of a semaphore and is
// counted by an actor.
let jobs = BoundedQueue<Int>(capacity: 32, name: "jobs")
let permits = AsyncSemaphore(limit: 2, name: "workers")
let tally = MailboxActor<Int>(name: "tally")

struct Tally: ActorBehavior {
    var total = 0
    mutating func receive(_ envelope: Envelope<Int>, context: ActorContext<Int>) async throws { total += envelope.message }
}

/// The producer and consumers, as a service: they stop at graceful shutdown.
struct Workload: Service {
    func run() async throws {
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    var n = 0
                    while !Task.isCancelled {
                        n += 1
                        do {
                            try await jobs.put(n)
                            try await Task.sleep(for: .milliseconds(n % 40 == 0 ? 150 : 1))
                        } catch { return }
                    }
                }
                for _ in 0..<2 {
                    group.addTask {
                        do {
                            for try await job in jobs {
                                try await permits.withPermit { try await Task.sleep(for: .milliseconds(job % 7 + 3)) }
                                try await tally.tell(1)
                            }
                        } catch {}
                    }
                }
            }
        }
        jobs.close()
    }
}

/// Serves GET /metrics (the Prometheus text format) on 127.0.0.1 only.
struct MetricsEndpoint: Service {
    let channel: any Channel

    static func bind(port: Int) async throws -> MetricsEndpoint {
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(MetricsHandler())
                }
            }
        return MetricsEndpoint(channel: try await bootstrap.bind(host: "127.0.0.1", port: port).get())
    }

    func run() async throws {
        let channel = channel
        try await withGracefulShutdownHandler {
            try await channel.closeFuture.get()
        } onGracefulShutdown: {
            channel.close(promise: nil)
        }
    }
}

final class MetricsHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    private var request: HTTPRequestHead?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): request = head
        case .body: break
        case .end:
            guard let head = request else { return }
            request = nil
            let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
            let found = head.method == .GET && path == "/metrics"
            let body = found ? prometheus.emitToBuffer() : Array("not found: try GET /metrics\n".utf8)
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: found ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain")
            headers.add(name: "Content-Length", value: String(body.count))
            let keepAlive = head.isKeepAlive
            if !keepAlive { headers.add(name: "Connection", value: "close") }
            let status: HTTPResponseStatus = found ? .ok : .notFound
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
                if !keepAlive { context.close(promise: nil) }
            }
        }
    }
}

let endpoint = try await MetricsEndpoint.bind(port: port)
say("MetricsServer pid \(getpid()), metrics at http://127.0.0.1:\(endpoint.channel.localAddress?.port ?? port)/metrics")

var logger = Logger(label: "MetricsServer")
logger.logLevel = .warning
let group = ServiceGroup(
    configuration: .init(
        services: [
            .init(service: PatternMetrics(interval: .seconds(1))),
            .init(service: tally.service(Tally())),
            .init(service: Workload()),
            .init(service: endpoint),
        ],
        gracefulShutdownSignals: [.sigterm, .sigint],
        logger: logger))
try await group.run()
say("MetricsServer: shut down")
