import Foundation
import Logging

/// Delivers queued mails: claims due rows, sends each once, and records the outcome. Temporary failures
/// retry with exponential backoff up to a cap; permanent ones (5xx) are marked failed and logged.
/// A mail is marked sent only after the SMTP server accepted it, so a crash means a resend, never a loss.
public struct MailOutbox: Sendable {
    let store: any OutboxStore
    let transport: any MailTransport
    let configuration: MailConfiguration
    let sealer: MailSealer
    let logger: Logger
    /// How long a claim holds before another instance may try the mail.
    static let lease: TimeInterval = 60
    /// After this many attempts a temporarily failing mail is given up.
    static let maxAttempts = 20

    public init(store: any OutboxStore, transport: any MailTransport, configuration: MailConfiguration, sealer: MailSealer, logger: Logger) {
        self.store = store
        self.transport = transport
        self.configuration = configuration
        self.sealer = sealer
        self.logger = logger
    }

    /// Sends what is due; returns how many mails were attempted.
    @discardableResult
    public func deliverDue(now: Date = Date()) async throws -> Int {
        let due = try await store.claimDueMails(now: now, leaseUntil: now.addingTimeInterval(Self.lease), limit: 20)
        for queued in due {
            await deliver(queued)
        }
        return due.count
    }

    /// Sets `latchkey_mail_outbox_pending` to the mails waiting for delivery.
    public func measurePending() async throws {
        Measured.mailsPending.record(try await store.pendingCount())
    }

    private func deliver(_ queued: QueuedMail) async {
        let id = queued.mail.id
        let metadata: Logger.Metadata = ["mail": "\(id)", "attempt": "\(queued.attempts + 1)"]
        let mail: OutgoingMail
        do {
            mail = try sealer.open(queued.mail)
        } catch {
            // Sealed under another key-encryption key: no retry opens it.
            await record(.permanent("the body cannot be opened with this key-encryption key"), for: queued, metadata: metadata)
            return
        }
        do {
            try await transport.send(mail)
            try await store.markSent(id, now: Date())
            Measured.mailsSent.increment()
            logger.info("mail delivered", metadata: metadata)
        } catch let error as MailDeliveryError {
            await record(error, for: queued, metadata: metadata)
        } catch {
            await record(.temporary(String(describing: error)), for: queued, metadata: metadata)
        }
    }

    private func record(_ error: MailDeliveryError, for queued: QueuedMail, metadata: Logger.Metadata) async {
        let now = Date()
        do {
            switch error {
            case .temporary(let reason) where queued.attempts + 1 < Self.maxAttempts:
                let delay = min(Double(configuration.retryMaxDelay), pow(2, Double(queued.attempts)))
                try await store.markRetry(queued.mail.id, nextAttemptAt: now.addingTimeInterval(delay), error: reason)
                Measured.mailsRetried.increment()
                logger.warning("mail delivery failed; will retry", metadata: metadata.merging(["error": "\(reason)", "retryIn": "\(delay)s"]) { $1 })
            case .temporary(let reason), .permanent(let reason):
                try await store.markFailed(queued.mail.id, now: now, error: reason)
                Measured.mailsFailed.increment()
                logger.error("mail delivery failed for good", metadata: metadata.merging(["error": "\(reason)"]) { $1 })
            }
        } catch {
            // The claim lease runs out and the mail is tried again.
            logger.error("could not record a delivery outcome", metadata: ["error": "\(String(describing: error))"])
        }
    }
}

/// The `log` transport: prints each mail, link included, so a first run needs no mail server.
public struct LogMailTransport: MailTransport {
    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    public func send(_ mail: OutgoingMail) async throws {
        logger.notice("mail (log transport)\nTo: \(mail.to)\nSubject: \(mail.subject)\n\n\(mail.text)")
    }
}
