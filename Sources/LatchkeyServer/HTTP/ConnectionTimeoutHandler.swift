import NIOCore
import NIOHTTPTypes

/// Closes connections that hold the server's resources without using them: one that has sent part of a
/// request and then nothing for `requestHeaderTimeout` (slowloris), and an idle keep-alive connection after
/// `idleTimeout`. A request being answered is never timed out here.
///
/// It sits after the HTTP decoder, which passes on every socket read as `channelReadComplete` even when
/// the bytes do not yet make a whole request head, so a partial request is seen as bytes without a request end.
final class ConnectionTimeoutHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart

    private let requestHeaderTimeout: TimeAmount
    private let idleTimeout: TimeAmount
    /// Requests read in full whose response has not ended yet.
    private var requestsInProgress = 0
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
        if case .end = unwrapInboundIn(data) {
            requestsInProgress += 1
            timer?.cancel()
        }
        context.fireChannelRead(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        // Bytes arrived and no request is being answered: they are (part of) the next request.
        if requestsInProgress == 0 { schedule(requestHeaderTimeout, context: context) }
        context.fireChannelReadComplete()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            requestsInProgress = max(0, requestsInProgress - 1)
            if requestsInProgress == 0 { schedule(idleTimeout, context: context) }
        }
        context.write(data, promise: promise)
    }

    private func schedule(_ timeout: TimeAmount, context: ChannelHandlerContext) {
        timer?.cancel()
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: timeout) { loopBound.value.close(promise: nil) }
    }
}
