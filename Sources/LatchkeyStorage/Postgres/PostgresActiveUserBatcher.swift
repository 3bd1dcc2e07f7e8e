import Foundation
import LatchkeyCore
import PostgresNIO

/// Answers the session check of every authenticated request with as few queries as possible (`Batcher`): the
/// requests that arrive while one query is on its way go together in the next one. The database stays the only
/// source of truth, which a cache shared by no one could not be; under load one round trip serves dozens.
struct PostgresActiveUserBatcher: Sendable {
    private struct Check: Sendable {
        var sessionID: UUID
        var userID: UUID
        var now: Date
    }

    private let batcher: Batcher<Check, User?>

    init(executor: PostgresExecutor) {
        batcher = Batcher(maxBatch: 256) { checks in
            let rows = try await executor.rows(ActiveUsersQuery(sessionIDs: checks.map(\.sessionID)))
            var found: [UUID: (user: User, expiresAt: Date)] = [:]
            for row in rows {
                found[try row.value("session_id")] = (try User(row: row), try row.value("session_expires_at"))
            }
            return checks.map { check in
                .success(found[check.sessionID].flatMap { $0.user.id == check.userID && $0.expiresAt > check.now ? $0.user : nil })
            }
        }
    }

    func activeUser(sessionID: UUID, userID: UUID, now: Date) async throws -> User? {
        try await batcher.submit(Check(sessionID: sessionID, userID: userID, now: now))
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
