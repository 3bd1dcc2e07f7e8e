import Foundation
import LatchkeyCore
import Logging
import ServiceLifecycle

/// Runs the outbox: delivers due mails every `pollInterval`, cleans old rows every `purgeInterval`, and
/// stops between deliveries on graceful shutdown (an interrupted delivery is retried after the claim lease).
struct MailOutboxService: Service {
    let outbox: MailOutbox
    let pollInterval: Duration
    let purgeInterval: Duration
    let logger: Logger

    func run() async throws {
        var lastPurge = ContinuousClock.now - purgeInterval
        while !Task.isShuttingDownGracefully {
            do {
                // Keep going while there is a backlog.
                while try await outbox.deliverDue() > 0, !Task.isShuttingDownGracefully {}
                if ContinuousClock.now - lastPurge >= purgeInterval {
                    try await outbox.purgeOld()
                    lastPurge = .now
                }
            } catch {
                logger.error("outbox pass failed", metadata: ["error": "\(String(describing: error))"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: pollInterval) }
        }
    }
}
