import Foundation
import Logging

/// Deletes what is no longer needed, in batches of at most `batchSize` rows so that no statement holds locks for
/// long. Several instances may run it at once: each batch deletes whatever rows are spent when it runs.
public struct Cleanup: Sendable {
    let database: any StorageBackend
    static let batchSize = 1000

    public init(database: any StorageBackend) {
        self.database = database
    }

    /// Runs until nothing is left to delete; returns how many rows went.
    @discardableResult
    public func run(now: Date = Date(), logger: Logger) async throws -> Int {
        var deleted = 0
        while !Task.isCancelled {
            let batch = try await database.rateLimits.deleteSpent(
                now: now,
                forgetBefore: now.addingTimeInterval(-LoginThrottle.memory),
                limit: Self.batchSize
            )
            deleted += batch
            if batch < Self.batchSize / 2 { break }
        }
        if deleted > 0 { logger.info("cleanup", metadata: ["event": "cleanup", "rateLimitRows": "\(deleted)"]) }
        return deleted
    }
}
