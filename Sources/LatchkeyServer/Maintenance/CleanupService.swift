import LatchkeyCore
import Logging
import ServiceLifecycle

/// Runs `Cleanup` every `interval` (`LATCHKEY_CLEANUP_INTERVAL`), the first time one interval after start.
struct CleanupService: Service {
    let cleanup: Cleanup
    let interval: Duration
    let logger: Logger

    func run() async throws {
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            guard !Task.isShuttingDownGracefully, !Task.isCancelled else { return }
            do {
                try await cleanup.run(logger: logger)
            } catch {
                logger.error("cleanup failed", metadata: ["error": "\(String(describing: error))"])
            }
        }
    }
}
