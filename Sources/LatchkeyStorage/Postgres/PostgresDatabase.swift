import Foundation
import LatchkeyCore
import Logging
import PostgresNIO

/// The PostgreSQL backend: every store shares one pooled `PostgresClient`, which must run as a service.
/// All shared state lives here, so several instances can serve behind one load balancer.
public struct PostgresDatabase: StorageBackend {
    let executor: PostgresExecutor
    let activeUsers: PostgresActiveUserBatcher

    public var users: any UserStore { PostgresUserStore(executor: executor) }
    public var sessions: any SessionStore { PostgresSessionStore(executor: executor, activeUsers: activeUsers) }
    public var signingKeys: any SigningKeyStore { PostgresSigningKeyStore(executor: executor) }
    public var emailTokens: any EmailTokenStore { PostgresEmailTokenStore(executor: executor) }
    public var outbox: any OutboxStore { PostgresOutboxStore(executor: executor) }

    init(client: PostgresClient, logger: Logger) {
        executor = PostgresExecutor(client: client, logger: logger)
        activeUsers = PostgresActiveUserBatcher(executor: executor)
    }

    public func ping() async throws {
        _ = try await executor.rows("SELECT 1")
    }

    func migrate() async throws {
        try await executor.bounded(timeout: .seconds(60)) { try await PostgresMigrations.migrate(executor.client, logger: executor.logger) }
    }

    /// `postgres://user:pass@host:port/db[?sslmode=require]` as client configuration.
    static func configuration(url: String) throws -> PostgresClient.Configuration {
        guard let components = URLComponents(string: url), let host = components.host, let user = components.user,
            ["postgres", "postgresql"].contains(components.scheme ?? "")
        else { throw ConfigurationError("LATCHKEY_DATABASE_URL must look like postgres://user:password@host:5432/database.") }
        let sslMode = components.queryItems?.first { $0.name == "sslmode" }?.value ?? "disable"
        let tls: PostgresClient.Configuration.TLS =
            switch sslMode {
            case "require", "verify-ca", "verify-full": .require(.makeClientConfiguration())
            case "prefer": .prefer(.makeClientConfiguration())
            default: .disable
            }
        let database = components.path.split(separator: "/").first.map(String.init)
        var configuration = PostgresClient.Configuration(
            host: host,
            port: components.port ?? 5432,
            username: user.removingPercentEncoding ?? user,
            password: components.password?.removingPercentEncoding,
            database: database,
            tls: tls
        )
        configuration.options.connectTimeout = .seconds(3)
        return configuration
    }
}

/// Runs queries with a time bound: when the database is unreachable a request fails with
/// `SERVICE_UNAVAILABLE` in seconds instead of hanging.
struct PostgresExecutor: Sendable {
    let client: PostgresClient
    let logger: Logger
    static let timeout = Duration.seconds(5)

    func rows(_ query: PostgresQuery) async throws -> [PostgresRandomAccessRow] {
        try await bounded { try await client.query(query, logger: logger).collect().map { $0.makeRandomAccess() } }
    }

    func execute(_ query: PostgresQuery) async throws {
        _ = try await rows(query)
    }

    func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await bounded { try await client.withTransaction(logger: logger) { connection in try await body(connection) } }
    }

    func bounded<T: Sendable>(timeout: Duration = Self.timeout, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
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

extension PostgresRandomAccessRow {
    func value<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws -> T {
        try self[column].decode(T.self)
    }
}

extension PSQLError {
    var isUniqueViolation: Bool { serverInfo?[.sqlState] == "23505" }
}
