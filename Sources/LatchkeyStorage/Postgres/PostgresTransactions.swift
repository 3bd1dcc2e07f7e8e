import Foundation
import LatchkeyCore
import Logging
import Metrics
import PostgresNIO

/// Runs queries with a time bound: when the database is unreachable a request fails with
/// `SERVICE_UNAVAILABLE` in seconds instead of hanging.
struct PostgresExecutor: Sendable {
    let client: PostgresClient
    let logger: Logger
    static let timeout = Duration.seconds(5)
    /// Statements and transactions running or waiting for a connection: against `connectionsMax`, how full the pool is.
    static let inFlight = Meter(label: "latchkey_database_queries_in_flight")
    static let connectionsMax = Gauge(label: "latchkey_database_connections_max")

    func rows(_ query: PostgresQuery) async throws -> [PostgresRandomAccessRow] {
        try await bounded { try await client.query(query, logger: logger).collect().map { $0.makeRandomAccess() } }
    }

    func execute(_ query: PostgresQuery) async throws {
        _ = try await rows(query)
    }

    /// Returns how many challenges it deleted.
    func deleteEnded(_ table: ChallengeTable, before: Date, limit: Int) async throws -> Int {
        var binds = PostgresBindings(capacity: 2)
        binds.append(before)
        binds.append(limit)
        return try await rows(PostgresQuery(unsafeSQL: table.deleteEndedSQL(postgres: true) + " RETURNING 1", binds: binds)).count
    }

    func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await bounded { try await client.withTransaction(logger: logger) { connection in try await body(connection) } }
    }

    func bounded<T: Sendable>(timeout: Duration = Self.timeout, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        Self.inFlight.increment()
        defer { Self.inFlight.decrement() }
        do {
            return try await withThrowingTaskGroup(of: T.self) { group in
                group.addTask { try await body() }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    throw AuthError.serviceUnavailable
                }
                defer { group.cancelAll() }
                return try await group.next()!
            }
        } catch let error as PSQLError where error.serverInfo == nil {
            // No answer from the server: the connection, not the query, failed.
            logger.warning("database unreachable", metadata: ["error": "\(String(describing: error))"])
            throw AuthError.serviceUnavailable
        } catch let error as PostgresTransactionError {
            if let error = error.closureError ?? error.beginError ?? error.commitError { throw Self.unwrap(error) }
            throw AuthError.serviceUnavailable
        }
    }

    private static func unwrap(_ error: any Error) -> any Error {
        if let error = error as? PSQLError, error.serverInfo == nil { return AuthError.serviceUnavailable }
        return error
    }
}

/// A statement PostgreSQL parses and plans once per connection, for the queries every refresh, login or
/// authenticated request makes: parsing and planning were half of PostgreSQL's time on a refresh.
protocol PostgresHotQuery: PostgresPreparedStatement where Row == PostgresRandomAccessRow {}

extension PostgresHotQuery {
    func decodeRow(_ row: PostgresRow) throws -> PostgresRandomAccessRow { row.makeRandomAccess() }
}

extension PostgresExecutor {
    func rows<Query: PostgresHotQuery>(_ query: Query) async throws -> [PostgresRandomAccessRow] {
        try await bounded {
            var rows: [PostgresRandomAccessRow] = []
            for try await row in try await client.execute(query, logger: logger) { rows.append(row) }
            return rows
        }
    }
}

extension PostgresConnection {
    func rows(_ query: PostgresQuery, logger: Logger) async throws -> [PostgresRandomAccessRow] {
        try await self.query(query, logger: logger).collect().map { $0.makeRandomAccess() }
    }
}

extension PostgresConnection {
    /// Stores a token and queues its mail; a new reset token voids the older ones.
    func issue(_ token: EmailToken, mail: SealedMail, logger: Logger) async throws {
        if token.purpose == .resetPassword {
            try await voidTokens(userID: token.userID, purpose: .resetPassword, now: token.createdAt, logger: logger)
        }
        _ = try await rows(
            """
            INSERT INTO email_tokens (token_hash, user_id, purpose, created_at, expires_at)
            VALUES (\(token.hash), \(token.userID), \(token.purpose.rawValue), \(token.createdAt), \(token.expiresAt))
            """,
            logger: logger
        )
        try await enqueue(mail, logger: logger)
    }

    func voidTokens(userID: UUID, purpose: EmailToken.Purpose, now: Date, logger: Logger) async throws {
        _ = try await rows(
            "UPDATE email_tokens SET used_at = \(now) WHERE user_id = \(userID) AND purpose = \(purpose.rawValue) AND used_at IS NULL",
            logger: logger
        )
    }

    /// With `lock`, the token row stays locked until the transaction ends, so a token is used once even by concurrent requests.
    func usableTokenOwner(_ hash: Data, purpose: EmailToken.Purpose, now: Date, lock: Bool, logger: Logger) async throws -> User? {
        let query: PostgresQuery = try """
        SELECT u.* FROM email_tokens t JOIN users u ON u.id = t.user_id
        WHERE t.token_hash = \(hash) AND t.purpose = \(purpose.rawValue) AND t.used_at IS NULL AND t.expires_at > \(now)
          AND u.deleted_at IS NULL AND u.disabled_at IS NULL
        \(unescaped: lock ? "FOR UPDATE OF t" : "")
        """
        return try await rows(query, logger: logger).first.map { try User(row: $0) }
    }

    /// Appends to the audit log, inside the transaction of the change the event records.
    func record(_ event: AuditEvent?, logger: Logger) async throws {
        guard let event else { return }
        // The same statement the hot paths' CTEs hold, so the columns are listed once.
        var bindings = PostgresBindings(capacity: AuditInsert.count)
        bindings.append(audit: event)
        _ = try await rows(PostgresQuery(unsafeSQL: AuditInsert.sql(from: 1), binds: bindings), logger: logger)
    }

    func enqueue(_ mail: SealedMail, logger: Logger) async throws {
        _ = try await rows(
            """
            INSERT INTO mail_outbox (id, recipient, subject, text_body, html_body, sealed_body, message_id, created_at, next_attempt_at)
            VALUES (\(mail.id), \(mail.to), \(mail.subject), '', '', \(mail.sealedBody), \(mail.messageID), \(mail.createdAt), \(mail.createdAt))
            """,
            logger: logger
        )
    }

    /// Everything a password change means, inside the caller's transaction (see `UserStore.changePassword`).
    func setPassword(userID: UUID, passwordHash: String, keepSessionID: UUID?, notice: SealedMail, now: Date, logger: Logger) async throws {
        _ = try await rows("UPDATE users SET password_hash = \(passwordHash), updated_at = \(now) WHERE id = \(userID)", logger: logger)
        _ = try await rows(.revokeSessions(userID: userID, except: keepSessionID, now: now), logger: logger)
        try await voidTokens(userID: userID, purpose: .resetPassword, now: now, logger: logger)
        _ = try await rows("DELETE FROM mfa_challenges WHERE user_id = \(userID)", logger: logger)
        try await enqueue(notice, logger: logger)
    }
}

extension PostgresQuery {
    /// Revokes the user's live sessions, all but `keep`: in a transaction of its own or inside another.
    static func revokeSessions(userID: UUID, except keep: UUID? = nil, now: Date) -> PostgresQuery {
        "UPDATE sessions SET revoked_at = \(now) WHERE user_id = \(userID) AND revoked_at IS NULL AND id IS DISTINCT FROM \(keep)"
    }
}

/// The audit event of a hot statement, inserted by one of its CTEs: no explicit transaction, no extra round trip.
enum AuditInsert {
    static let columns = ["id", "at", "type", "user_id", "session_id", "ip", "user_agent", "request_id", "details"]
    static let types = ["uuid", "timestamptz", "text", "uuid", "uuid", "text", "text", "text", "text"]
    static var count: Int { columns.count }

    /// Inserts the event bound from `$first` on (`PostgresBindings.append(audit:)`) when one was bound. With
    /// `aboutSessionIn`, the user and session come from that row source's `user_id` and `id`, when `condition` holds.
    static func sql(from first: Int, aboutSessionIn source: String? = nil, when condition: String? = nil) -> String {
        var values = zip(first..., types).map { "$\($0)::\($1)" }
        if let source {
            // Still naming the bound parameters: PostgreSQL refuses to prepare a statement with an unused one.
            values[3] = "coalesce(\(values[3]), \(source).user_id)"
            values[4] = "coalesce(\(values[4]), \(source).id)"
        }
        return """
            INSERT INTO audit_events (\(columns.joined(separator: ", ")))
            SELECT \(values.joined(separator: ", "))\(source.map { " FROM \($0)" } ?? "") WHERE \(condition ?? "\(values[0]) IS NOT NULL")
            """
    }
}

extension PostgresBindings {
    /// The event's columns in `AuditInsert.columns` order; all null for no event.
    mutating func append(audit event: AuditEvent?) {
        append(event?.id)
        append(event?.at)
        append(event?.type.rawValue)
        append(event?.userID)
        append(event?.sessionID)
        append(event?.ip)
        append(event?.userAgent)
        append(event?.requestID)
        append(event?.detailsJSON)
    }
}
