import NIOCore
import NIOHTTPTypes

/// Closes connections that hold the server's resources without using them: one whose request head is not complete
/// `requestHeaderTimeout` after its first bytes (slowloris), one whose request body stops coming for as long, and an
/// idle keep-alive connection after `idleTimeout`. A request being answered is never timed out here.
///
/// It sits after the HTTP decoder, which passes on every socket read as `channelReadComplete` even when the bytes do
/// not yet make a whole request head: bytes with no head decoded are the start of a head.
final class ConnectionTimeoutHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart

    private let requestHeaderTimeout: TimeAmount
    private let idleTimeout: TimeAmount
    /// Requests whose head arrived and whose response has not ended. An early answer (a 413, say) may end before
    /// the request body does.
    private var unanswered = 0
    /// A request head arrived and its end has not.
    private var receivingBody = false
    /// The first bytes of a head arrived: its deadline runs and later bytes do not move it.
    private var headDeadlineRuns = false
    private var timer: Scheduled<Void>?

    init(requestHeaderTimeout: TimeAmount, idleTimeout: TimeAmount) {
        self.requestHeaderTimeout = requestHeaderTimeout
        self.idleTimeout = idleTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        schedule(idleTimeout, context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            unanswered += 1
            receivingBody = true
            headDeadlineRuns = false
            timer?.cancel()
        case .body:
            break
        case .end:
            receivingBody = false
            if unanswered == 0 { schedule(idleTimeout, context: context) }
        }
        context.fireChannelRead(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if receivingBody {
            schedule(requestHeaderTimeout, context: context)
        } else if unanswered == 0 && !headDeadlineRuns {
            headDeadlineRuns = true
            schedule(requestHeaderTimeout, context: context)
        }
        context.fireChannelReadComplete()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            unanswered = max(0, unanswered - 1)
            if unanswered == 0 && !receivingBody { schedule(idleTimeout, context: context) }
        }
        context.write(data, promise: promise)
    }

    private func schedule(_ timeout: TimeAmount, context: ChannelHandlerContext) {
        timer?.cancel()
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: timeout) { loopBound.value.close(promise: nil) }
    }
}
