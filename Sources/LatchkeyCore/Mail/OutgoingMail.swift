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

/// A mail claimed from the outbox for one delivery attempt.
public struct QueuedMail: Sendable {
    public var mail: OutgoingMail
    /// Attempts made before this one.
    public var attempts: Int

    public init(mail: OutgoingMail, attempts: Int) {
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
