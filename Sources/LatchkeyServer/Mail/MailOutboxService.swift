import Foundation
import LatchkeyCore
import Logging
import ServiceLifecycle

/// Runs the outbox: delivers due mails every `pollInterval`, and stops between deliveries on graceful shutdown (an
/// interrupted delivery is retried after the claim lease). Old rows go with the cleanup job.
struct MailOutboxService: Service {
    let outbox: MailOutbox
    let pollInterval: Duration
    let started: StartGate
    let logger: Logger

    func run() async throws {
        await started.wait()
        // Cancelled, not shut down gracefully, when another service fails: then its sleep no longer waits.
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            do {
                // Keep going while there is a backlog.
                while try await outbox.deliverDue() > 0, !Task.isShuttingDownGracefully, !Task.isCancelled {}
            } catch {
                logger.error("outbox pass failed", metadata: ["error": "\(String(describing: error))"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: pollInterval) }
        }
    }
}
