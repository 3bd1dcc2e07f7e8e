import Configuration
import LatchkeyCore
import LatchkeyStorage
import Logging
import ServiceLifecycle

/// The domain services over the configured database, assembled in one place for the server (`buildApplication`) and
/// for the commands, which call them directly.
///
/// Reads `TokenConfiguration`, `AccountConfiguration`, `MailConfiguration`, `KeyEncryptionKey`,
/// `RateLimitConfiguration` and `AuditLog` (see their keys) and the database URL under `latchkey.`. Opens the database, applies its
/// migrations and loads (or creates) the signing keys.
public struct LatchkeyServices: Sendable {
    public let database: any StorageBackend
    public let issuer: TokenIssuer
    public let limiter: RateLimiter
    public let sessions: SessionService
    public let accounts: AccountService
    public let admin: AdminService
    public let keys: SigningKeyService
    public let cleanup: Cleanup
    public let audit: AuditLog
    let opened: OpenedDatabase
    let tokens: TokenConfiguration
    let mail: MailConfiguration
    let sealer: MailSealer

    public static func open(reader config: ConfigReader, databaseURL: String, logger: Logger) async throws -> LatchkeyServices {
        let tokens = try TokenConfiguration(reader: config)
        let accounts = try AccountConfiguration(reader: config)
        let mail = try MailConfiguration(reader: config)
        let limits = try RateLimitConfiguration(reader: config)
        let configuredKEK = try KeyEncryptionKey.configured(reader: config)
        let (opened, issuer) = try await DatabaseFactory.open(url: databaseURL, keyEncryptionKey: configuredKEK, logger: logger) {
            database,
            keyEncryptionKey in
            try await TokenIssuer.load(
                configuration: tokens,
                store: database.signingKeys,
                sealer: SigningKeySealer(keyEncryptionKey: keyEncryptionKey)
            )
        }
        let database = opened.database
        issuer.reloadKeys(from: database.signingKeys)
        let sealer = MailSealer(keyEncryptionKey: opened.keyEncryptionKey)
        let hasher = PasswordHasher(cost: accounts.bcryptCost)
        let limiter = RateLimiter(store: database.rateLimits, configuration: limits)
        let sessions = SessionService(database: database, issuer: issuer, hasher: hasher, accounts: accounts, limiter: limiter)
        let audit = AuditLog(store: database.audit, retention: try AuditLog.retention(reader: config))
        return LatchkeyServices(
            database: database,
            issuer: issuer,
            limiter: limiter,
            sessions: sessions,
            accounts: AccountService(
                database: database,
                sessions: sessions,
                hasher: hasher,
                policy: PasswordPolicy(),
                configuration: accounts,
                composer: try await MailComposer(configuration: mail, sealer: sealer),
                tokens: tokens
            ),
            admin: AdminService(database: database, sessions: sessions),
            keys: SigningKeyService(
                store: database.signingKeys,
                sealer: SigningKeySealer(keyEncryptionKey: opened.keyEncryptionKey),
                configuration: tokens
            ),
            cleanup: Cleanup(database: database, mailRetention: mail.retention, auditRetention: audit.retention),
            audit: audit,
            opened: opened,
            tokens: tokens,
            mail: mail,
            sealer: sealer
        )
    }

    /// What must run while the database is used (PostgreSQL's connection pool), as an application service.
    var databaseService: (any Service)? { opened.service }

    /// Runs `body` with the database usable: for a command, which has no application to run its pool.
    public func whileConnected<Value: Sendable>(_ body: @escaping @Sendable () async throws -> Value) async throws -> Value {
        guard let service = databaseService else { return try await body() }
        return try await withThrowingTaskGroup(of: Value?.self) { group in
            group.addTask {
                try await service.run()
                return nil
            }
            defer { group.cancelAll() }
            return try await body()
        }
    }
}
