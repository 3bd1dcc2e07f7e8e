import Foundation

/// Seals mail bodies for the outbox and opens them for delivery (AES-GCM under a key derived from the KEK).
public struct MailSealer: Sendable {
    private let sealer: SecretSealer

    public init(keyEncryptionKey: KeyEncryptionKey) {
        sealer = SecretSealer(keyEncryptionKey: keyEncryptionKey, purpose: "outbox mail body")
    }

    private struct Body: Codable {
        var text: String
        var html: String
    }

    public func seal(_ mail: OutgoingMail) throws -> SealedMail {
        let body = try JSONEncoder().encode(Body(text: mail.text, html: mail.html))
        // The mail id is authenticated with the body: a sealed body moved to another row does not open.
        let sealed = try sealer.seal(body, owner: mail.id.uuidString)
        return SealedMail(
            id: mail.id,
            to: mail.to,
            subject: mail.subject,
            messageID: mail.messageID,
            createdAt: mail.createdAt,
            body: .sealed(sealed)
        )
    }

    public func open(_ mail: SealedMail) throws -> OutgoingMail {
        let text: String
        let html: String
        switch mail.body {
        case .plain(let plainText, let plainHTML):
            (text, html) = (plainText, plainHTML)
        case .sealed(let data):
            let body = try JSONDecoder().decode(Body.self, from: try sealer.open(data, owner: mail.id.uuidString))
            (text, html) = (body.text, body.html)
        }
        return OutgoingMail(
            id: mail.id,
            to: mail.to,
            subject: mail.subject,
            text: text,
            html: html,
            messageID: mail.messageID,
            createdAt: mail.createdAt
        )
    }
}
