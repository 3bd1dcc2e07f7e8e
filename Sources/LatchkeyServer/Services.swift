import Configuration
import LatchkeyCore
import LatchkeyStorage
import Logging
import ServiceLifecycle
import Synchronization

/// The domain services over the configured database, assembled in one place for the server (`buildApplication`) and
/// for the commands, which call them directly. Nothing is read from the database until `start` (migrations, then the
/// signing keys), which runs on the database clients they serve with.
public struct LatchkeyServices: Sendable {
    public let database: any StorageBackend
    public let issuer: TokenIssuer
    public let limiter: RateLimiter
    public let sessions: SessionService
    public let accounts: AccountService
    public let secondFactors: SecondFactorService
    public let passkeys: PasskeyService
    public let admin: AdminService
    public let keys: SigningKeyService
    public let cleanup: Cleanup
    public let audit: AuditLog
    let opened: OpenedDatabase
    let sealer: MailSealer
    /// Opened by `start`: the application's services that use the database wait for it.
    let started = StartGate()

    public static func open(configuration: LatchkeyConfiguration, logger: Logger) async throws -> LatchkeyServices {
        let (tokens, accounts, mail) = (configuration.tokens, configuration.accounts, configuration.mail)
        let opened = try DatabaseFactory.open(url: configuration.server.databaseURL, keyEncryptionKey: configuration.keyEncryptionKey, logger: logger)
        let database = opened.database
        let issuer = TokenIssuer(
            configuration: tokens,
            store: database.signingKeys,
            sealer: SigningKeySealer(keyEncryptionKey: opened.keyEncryptionKey)
        )
        let sealer = MailSealer(keyEncryptionKey: opened.keyEncryptionKey)
        let hasher = PasswordHasher(cost: accounts.bcryptCost)
        let limiter = RateLimiter(store: database.rateLimits, configuration: configuration.limits)
        let sessions = SessionService(
            database: database,
            issuer: issuer,
            hasher: hasher,
            accounts: accounts,
            limiter: limiter,
            keyEncryptionKey: opened.keyEncryptionKey
        )
        let secondFactors = SecondFactorService(
            database: database,
            sessions: sessions,
            hasher: hasher,
            configuration: configuration.secondFactor,
            keyEncryptionKey: opened.keyEncryptionKey
        )
        let audit = AuditLog(store: database.audit, retention: configuration.auditRetention)
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
                tokens: tokens,
                confirmation: secondFactors.confirmation
            ),
            secondFactors: secondFactors,
            passkeys: PasskeyService(
                database: database,
                sessions: sessions,
                confirmation: secondFactors.confirmation,
                relyingParty: configuration.passkeys.relyingParty
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
            sealer: sealer
        )
    }

    /// Applies pending migrations, then loads the signing keys (creating one on first start). Runs while
    /// `databaseService` does: before the server listens (`buildApplication`), or first thing in `whileConnected`.
    public func start() async throws {
        try await opened.migrate()
        try await issuer.load()
        started.open()
    }

    /// What must run while the database is used (PostgreSQL's connection pool), as an application service.
    var databaseService: (any Service)? { opened.service }

    /// Runs `body` after `start`, with the database usable: for a command, which has no application to run its pool.
    public func whileConnected<Value: Sendable>(_ body: @escaping @Sendable () async throws -> Value) async throws -> Value {
        try await opened.whileRunning {
            try await start()
            return try await body()
        }
    }
}

/// Whether start-up (migrations, then the signing keys) has finished. The application's services start together with
/// the database pool, and those that use the database wait for it: a fresh PostgreSQL has no tables before it.
final class StartGate: Sendable {
    private let isOpen = Atomic<Bool>(false)

    func open() {
        isOpen.store(true, ordering: .releasing)
    }

    /// Returns once the gate is open, or when the task is cancelled or shut down.
    func wait() async {
        while !isOpen.load(ordering: .acquiring), !Task.isCancelled, !Task.isShuttingDownGracefully {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}
