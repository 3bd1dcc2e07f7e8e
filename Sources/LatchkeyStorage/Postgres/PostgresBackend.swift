import Foundation
import LatchkeyCore
import Logging
import PostgresNIO

/// The PostgreSQL backend: every store shares one pooled `PostgresClient`, which must run as a service.
/// All shared state lives here, so several instances can serve behind one load balancer.
public struct PostgresBackend: StorageBackend {
    let executor: PostgresExecutor
    let activeUsers: PostgresActiveUserBatcher

    public var users: any UserStore { PostgresUserStore(executor: executor) }
    public var sessions: any SessionStore { PostgresSessionStore(executor: executor, activeUsers: activeUsers) }
    public var signingKeys: any SigningKeyStore { PostgresSigningKeyStore(executor: executor) }
    public var emailTokens: any EmailTokenStore { PostgresEmailTokenStore(executor: executor) }
    public var outbox: any OutboxStore { PostgresOutboxStore(executor: executor) }
    public var rateLimits: any RateLimitStore { PostgresRateLimitStore(executor: executor) }
    public var audit: any AuditStore { PostgresAuditStore(executor: executor) }
    public var mfa: any MFAStore {
        PostgresMFAStore(executor: executor, sessions: PostgresSessionStore(executor: executor, activeUsers: activeUsers))
    }

    public var passkeys: any PasskeyStore { PostgresPasskeyStore(executor: executor) }

    init(client: PostgresClient, logger: Logger) {
        executor = PostgresExecutor(client: client, logger: logger)
        activeUsers = PostgresActiveUserBatcher(executor: executor)
    }

    public func ping() async throws {
        _ = try await executor.rows("SELECT 1")
    }

    /// Autovacuum analyzes the tables that change.
    public func refreshStatistics() async throws {}

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
