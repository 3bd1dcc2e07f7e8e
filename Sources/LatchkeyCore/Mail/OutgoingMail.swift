import Foundation

/// A mail waiting in the outbox. The Message-ID is fixed when it is queued, so a retried delivery is
/// recognisable as the same message.
public struct OutgoingMail: Sendable, Equatable {
    public var id: UUID
    public var to: String
    public var subject: String
    public var text: String
    public var html: String
    public var messageID: String
    public var createdAt: Date

    public init(id: UUID = UUID(), to: String, subject: String, text: String, html: String, messageID: String, createdAt: Date) {
        self.id = id
        self.to = to
        self.subject = subject
        self.text = text
        self.html = html
        self.messageID = messageID
        self.createdAt = createdAt
    }
}

/// A mail as the outbox stores it: the envelope in the clear, the body (which holds a link with a live token)
/// sealed under the key-encryption key, so neither the database nor its free pages and WAL hold the token.
public struct SealedMail: Sendable, Equatable {
    public enum Body: Sendable, Equatable {
        case sealed(Data)
        /// A mail queued before bodies were sealed.
        case plain(text: String, html: String)
    }

    public var id: UUID
    public var to: String
    public var subject: String
    public var messageID: String
    public var createdAt: Date
    public var body: Body

    public init(id: UUID, to: String, subject: String, messageID: String, createdAt: Date, body: Body) {
        self.id = id
        self.to = to
        self.subject = subject
        self.messageID = messageID
        self.createdAt = createdAt
        self.body = body
    }

    /// The sealed bytes, nil for a plain body.
    public var sealedBody: Data? {
        if case .sealed(let data) = body { data } else { nil }
    }
}

/// A mail claimed from the outbox for one delivery attempt.
public struct QueuedMail: Sendable {
    public var mail: SealedMail
    /// Attempts made before this one.
    public var attempts: Int

    public init(mail: SealedMail, attempts: Int) {
        self.mail = mail
        self.attempts = attempts
    }
}

/// Delivers one mail. Throws `MailDeliveryError`.
public protocol MailTransport: Sendable {
    func send(_ mail: OutgoingMail) async throws
}

/// Why a delivery failed: temporary failures are retried, permanent ones are not.
public enum MailDeliveryError: Error, CustomStringConvertible {
    /// Connection trouble, a timeout, or a 4xx reply.
    case temporary(String)
    /// A 5xx reply: the server will never take this mail.
    case permanent(String)

    public var description: String {
        switch self {
        case .temporary(let reason): "temporary: \(reason)"
        case .permanent(let reason): "permanent: \(reason)"
        }
    }
}
