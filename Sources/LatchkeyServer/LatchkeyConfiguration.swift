import Configuration
import LatchkeyCore

/// Every setting, read once, under `latchkey.`: the one list of configuration types that validation, the commands and
/// the server use. A bad value throws the `ConfigurationError` that names its variable.
public struct LatchkeyConfiguration: Sendable {
    public let server: ServerConfiguration
    public let tokens: TokenConfiguration
    public let accounts: AccountConfiguration
    public let mail: MailConfiguration
    public let limits: RateLimitConfiguration
    public let secondFactor: SecondFactorConfiguration
    public let passkeys: PasskeyConfiguration
    public let trustedProxies: TrustedProxies
    /// The configured key-encryption key; nil lets SQLite keep its own beside the database.
    public let keyEncryptionKey: KeyEncryptionKey?
    /// Seconds audit events are kept.
    public let auditRetention: Int
    let pages: PageRenderer

    /// `reader` as the commands build it; the keys are read under `latchkey.`.
    public init(reader: ConfigReader) async throws {
        let config = reader.latchkey
        server = try ServerConfiguration(reader: config)
        tokens = try TokenConfiguration(reader: config)
        accounts = try AccountConfiguration(reader: config)
        mail = try MailConfiguration(reader: config)
        limits = try RateLimitConfiguration(reader: config)
        secondFactor = try SecondFactorConfiguration(reader: config)
        passkeys = try PasskeyConfiguration(reader: config, appURL: mail.appURL)
        trustedProxies = try TrustedProxies(reader: config)
        keyEncryptionKey = try KeyEncryptionKey.configured(reader: config)
        auditRetention = try AuditLog.retention(reader: config)
        pages = try await PageRenderer(reader: config)
    }
}
