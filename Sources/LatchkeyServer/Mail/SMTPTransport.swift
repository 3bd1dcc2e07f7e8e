import Foundation
import LatchkeyCore
import NIOCore
import NIOExtras
import NIOPosix
import NIOSSL

/// A small SMTP client on SwiftNIO: EHLO, optional STARTTLS or implicit TLS, optional AUTH PLAIN/LOGIN,
/// MAIL FROM / RCPT TO / DATA with dot-stuffing, QUIT. Every step has a timeout. Replies 4xx and
/// connection trouble are temporary failures, 5xx permanent.
public struct SMTPTransport: MailTransport {
    let configuration: MailConfiguration
    let stepTimeout: TimeAmount

    public init(configuration: MailConfiguration, stepTimeout: TimeAmount = .seconds(30)) {
        self.configuration = configuration
        self.stepTimeout = stepTimeout
    }

    public func send(_ mail: OutgoingMail) async throws {
        let session: SMTPSession
        do {
            session = try await SMTPSession.connect(configuration: configuration, timeout: stepTimeout)
        } catch {
            throw MailDeliveryError.temporary("cannot connect to \(configuration.smtpHost):\(configuration.smtpPort): \(error)")
        }
        do {
            try await session.deliver(mail, configuration: configuration)
            await session.close()
        } catch {
            await session.close()
            throw error
        }
    }
}

/// One reply of the server: its code and the text of its lines.
struct SMTPReply: Sendable {
    var code: Int
    var lines: [String]
}

/// One connection to the SMTP server.
final class SMTPSession: Sendable {
    let channel: any Channel
    let replies: AsyncThrowingStream<SMTPReply, any Error>
    private let iterator: IteratorBox

    private init(channel: any Channel, replies: AsyncThrowingStream<SMTPReply, any Error>) {
        self.channel = channel
        self.replies = replies
        self.iterator = IteratorBox(replies.makeAsyncIterator())
    }

    static func connect(configuration: MailConfiguration, timeout: TimeAmount) async throws -> SMTPSession {
        let (stream, continuation) = AsyncThrowingStream<SMTPReply, any Error>.makeStream()
        let implicitTLS = configuration.smtpTLS == .tls ? try tlsHandler(configuration) : nil
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let implicitTLS { try channel.pipeline.syncOperations.addHandler(implicitTLS) }
                    try channel.pipeline.syncOperations.addHandlers([
                        IdleStateHandler(readTimeout: timeout),
                        ByteToMessageHandler(LineBasedFrameDecoder()),
                        SMTPReplyHandler(continuation: continuation),
                    ])
                }
            }
            .connect(host: configuration.smtpHost, port: configuration.smtpPort)
            .get()
        return SMTPSession(channel: channel, replies: stream)
    }

    /// Certificates are verified against the system's roots, or `smtpCAFile`, and the host name.
    static func tlsHandler(_ configuration: MailConfiguration) throws -> NIOSSLClientHandler {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let caFile = configuration.smtpCAFile { tls.trustRoots = .file(caFile) }
        let host = configuration.smtpHost
        return try NIOSSLClientHandler(context: NIOSSLContext(configuration: tls), serverHostname: host.first?.isNumber == true ? nil : host)
    }

    func deliver(_ mail: OutgoingMail, configuration: MailConfiguration) async throws {
        try await expect([220], after: "connect")
        let hello = "EHLO \(configuration.senderDomain)"
        var capabilities = try await command(hello, expect: 250).lines
        if configuration.smtpTLS == .starttls {
            try await command("STARTTLS", expect: 220)
            try await channel.pipeline.addHandler(Self.tlsHandler(configuration), position: .first).get()
            capabilities = try await command(hello, expect: 250).lines
        }
        if let username = configuration.smtpUsername {
            let password = configuration.smtpPassword ?? ""
            let auth = capabilities.first { $0.uppercased().hasPrefix("AUTH") }?.uppercased() ?? ""
            if auth.contains("PLAIN") || !auth.contains("LOGIN") {
                try await command("AUTH PLAIN \(Data("\0\(username)\0\(password)".utf8).base64EncodedString())", expect: 235, redacted: true)
            } else {
                try await command("AUTH LOGIN", expect: 334)
                try await command(Data(username.utf8).base64EncodedString(), expect: 334, redacted: true)
                try await command(Data(password.utf8).base64EncodedString(), expect: 235, redacted: true)
            }
        }
        try await command("MAIL FROM:<\(MIMEMessage.address(configuration.from))>", expect: 250)
        try await command("RCPT TO:<\(mail.to)>", expect: 250, 251)
        try await command("DATA", expect: 354)
        try await write(MIMEMessage(mail: mail, from: configuration.from).dotStuffed + ".\r\n")
        try await expect([250], after: "DATA end")
        _ = try? await command("QUIT", expect: 221)
    }

    func close() async {
        try? await channel.close()
    }

    @discardableResult
    private func command(_ line: String, expect codes: Int..., redacted: Bool = false) async throws -> SMTPReply {
        try await write(line + "\r\n")
        return try await expect(codes, after: redacted ? "(credentials)" : line)
    }

    @discardableResult
    private func expect(_ codes: [Int], after step: String) async throws -> SMTPReply {
        let reply: SMTPReply?
        do {
            reply = try await iterator.next()
        } catch {
            throw MailDeliveryError.temporary("after \(step): \(error)")
        }
        guard let reply else { throw MailDeliveryError.temporary("connection closed after \(step)") }
        guard codes.contains(reply.code) else {
            let text = "\(step.split(separator: " ").first ?? "") answered \(reply.code) \(reply.lines.joined(separator: " "))"
            throw (500..<600).contains(reply.code) ? MailDeliveryError.permanent(text) : MailDeliveryError.temporary(text)
        }
        return reply
    }

    private func write(_ text: String) async throws {
        do {
            try await channel.writeAndFlush(ByteBuffer(string: text))
        } catch {
            throw MailDeliveryError.temporary("write failed: \(error)")
        }
    }

    /// The stream's iterator, used by one delivery at a time.
    private final class IteratorBox: @unchecked Sendable {
        var iterator: AsyncThrowingStream<SMTPReply, any Error>.AsyncIterator
        init(_ iterator: AsyncThrowingStream<SMTPReply, any Error>.AsyncIterator) { self.iterator = iterator }
        func next() async throws -> SMTPReply? { try await iterator.next() }
    }
}

/// Joins the lines of multi-line replies (`250-…` then `250 …`) and yields each reply; idle timeouts,
/// errors and closed connections end the stream.
final class SMTPReplyHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let continuation: AsyncThrowingStream<SMTPReply, any Error>.Continuation
    /// Lines of the reply being read; only touched on the channel's event loop.
    private var pending: [String] = []

    init(continuation: AsyncThrowingStream<SMTPReply, any Error>.Continuation) {
        self.continuation = continuation
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        let line = (buffer.readString(length: buffer.readableBytes) ?? "").trimmingCharacters(in: .newlines)
        guard line.count >= 3, let code = Int(line.prefix(3)) else {
            continuation.finish(throwing: MailDeliveryError.temporary("malformed reply: \(line.prefix(100))"))
            return
        }
        let text = String(line.dropFirst(4))
        let isLast = line.count == 3 || line[line.index(line.startIndex, offsetBy: 3)] != "-"
        pending.append(text)
        if isLast {
            continuation.yield(SMTPReply(code: code, lines: pending))
            pending.removeAll()
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            continuation.finish(throwing: MailDeliveryError.temporary("timed out waiting for the server"))
            context.close(promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        continuation.finish(throwing: error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        continuation.finish()
        context.fireChannelInactive()
    }
}
