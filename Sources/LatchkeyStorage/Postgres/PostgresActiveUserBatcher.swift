import Foundation
import LatchkeyCore
import PostgresNIO
import Synchronization

/// Answers the session check of every authenticated request with as few queries as possible: while one
/// query is on its way, the requests that arrive wait and then go together in the next one. A request is
/// never answered by a query sent before it arrived, so a logout committed earlier (on any instance) is
/// always seen — the database stays the only source of truth, which a cache shared by no one could not be.
/// Under no load a request goes alone at once; under load one round trip serves dozens.
final class PostgresActiveUserBatcher: Sendable {
    private struct Waiter {
        var sessionID: UUID
        var userID: UUID
        var now: Date
        var continuation: CheckedContinuation<User?, any Error>
    }

    private struct State {
        var waiting: [Waiter] = []
        var sending = false
    }

    private let executor: PostgresExecutor
    private let state = Mutex(State())
    /// Bounds one query's size; the rest waits for the next.
    private let maxBatch = 256

    init(executor: PostgresExecutor) {
        self.executor = executor
    }

    func activeUser(sessionID: UUID, userID: UUID, now: Date) async throws -> User? {
        try await withCheckedThrowingContinuation { continuation in
            let startsSending = state.withLock { state in
                state.waiting.append(Waiter(sessionID: sessionID, userID: userID, now: now, continuation: continuation))
                defer { state.sending = true }
                return !state.sending
            }
            if startsSending { Task { await self.sendUntilNoneWaits() } }
        }
    }

    private func sendUntilNoneWaits() async {
        while let batch = nextBatch() {
            do {
                let rows = try await executor.rows(ActiveUsersQuery(sessionIDs: batch.map(\.sessionID)))
                var found: [UUID: (user: User, expiresAt: Date)] = [:]
                for row in rows {
                    found[try row.value("session_id")] = (try User(row: row), try row.value("session_expires_at"))
                }
                for waiter in batch {
                    let match = found[waiter.sessionID].flatMap { $0.user.id == waiter.userID && $0.expiresAt > waiter.now ? $0.user : nil }
                    waiter.continuation.resume(returning: match)
                }
            } catch {
                for waiter in batch { waiter.continuation.resume(throwing: error) }
            }
        }
    }

    /// The waiting requests, or nil (and no longer sending) when there are none.
    private func nextBatch() -> [Waiter]? {
        state.withLock { state in
            guard !state.waiting.isEmpty else {
                state.sending = false
                return nil
            }
            let batch = Array(state.waiting.prefix(maxBatch))
            state.waiting.removeFirst(batch.count)
            return batch
        }
    }
}

/// The users of live sessions among `sessionIDs`; expiry is compared by each request against its own clock.
private struct ActiveUsersQuery: PostgresHotQuery {
    static let sql = """
        SELECT s.id AS session_id, s.expires_at AS session_expires_at, \(Columns.select(Columns.users, from: "u"))
        FROM sessions s JOIN users u ON u.id = s.user_id
        WHERE s.id = ANY($1) AND s.revoked_at IS NULL AND u.deleted_at IS NULL AND u.disabled_at IS NULL
        """
    var sessionIDs: [UUID]

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(sessionIDs)
        return bindings
    }
}
