import Foundation
import LatchkeyCore
import Logging
import ServiceLifecycle

/// Runs the outbox: delivers due mails every `pollInterval`, and stops between deliveries on graceful shutdown (an
/// interrupted delivery is retried after the claim lease). Old rows go with the cleanup job.
struct MailOutboxService: Service {
    let outbox: MailOutbox
    let pollInterval: Duration
    let logger: Logger

    func run() async throws {
        while !Task.isShuttingDownGracefully {
            do {
                // Keep going while there is a backlog.
                while try await outbox.deliverDue() > 0, !Task.isShuttingDownGracefully {}
            } catch {
                logger.error("outbox pass failed", metadata: ["error": "\(String(describing: error))"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: pollInterval) }
        }
    }
}
