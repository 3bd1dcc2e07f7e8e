import Logging
import ServiceLifecycle

/// Runs `work` every `interval`, the first time one interval after start, until shutdown; a failed run is logged and
/// the next one comes as usual. Serves the cleanup job (`LATCHKEY_CLEANUP_INTERVAL`) and the signing-key reload
/// (`LATCHKEY_KEY_RELOAD_INTERVAL`).
struct PeriodicService: Service {
    /// What the log says failed: "cleanup", "signing key reload".
    let name: String
    let interval: Duration
    /// Start-up, which the work waits for.
    let started: StartGate
    let logger: Logger
    let work: @Sendable () async throws -> Void

    func run() async throws {
        await started.wait()
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            guard !Task.isShuttingDownGracefully, !Task.isCancelled else { return }
            do {
                try await work()
            } catch {
                logger.error("\(name) failed", metadata: ["error": "\(String(describing: error))"])
            }
        }
    }
}
