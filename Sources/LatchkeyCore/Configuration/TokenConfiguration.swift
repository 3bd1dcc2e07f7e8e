import Configuration

/// How tokens are signed and how long they live.
///
/// Keys (under `latchkey.`): `jwt.algorithm`, `jwt.secret` (secret), `jwt.issuer`, `jwt.audience`,
/// `accessTokenTtl`, `refreshTokenTtl`, `refreshReuseGrace`, `verificationTokenTtl`, `resetTokenTtl`, `keyActivationDelay`,
/// `keyReloadInterval`.
public struct TokenConfiguration: Sendable {
    public var algorithm: SigningAlgorithm = .eddsa
    /// The HS256 shared secret, at least 32 bytes.
    public var hmacSecret: String?
    public var issuer = "latchkey"
    public var audience = "latchkey"
    /// Seconds.
    public var accessTokenTTL = 15 * 60
    public var refreshTokenTTL = 7 * 86400
    /// How long after a rotation the previous refresh token still returns the same successor; 0 turns it off.
    public var refreshReuseGrace = 10
    public var verificationTokenTTL = 24 * 3600
    public var resetTokenTTL = 3600
    /// Seconds from `keys rotate` until the new key signs (it is published at once).
    public var keyActivationDelay = 300
    /// Seconds between reloads of the key set on every instance.
    public var keyReloadInterval = 30

    public init() {}

    public init(reader: ConfigReader) throws {
        algorithm = try reader.choice("jwt.algorithm", default: .eddsa)
        hmacSecret = reader.text("jwt.secret", isSecret: true)
        if algorithm == .hs256 {
            guard let secret = hmacSecret, secret.utf8.count >= 32 else {
                throw ConfigurationError(key: "jwt.secret", "must be set to at least 32 bytes when LATCHKEY_JWT_ALGORITHM is HS256")
            }
        }
        issuer = reader.text("jwt.issuer", default: issuer) ?? issuer
        audience = reader.text("jwt.audience", default: audience) ?? audience
        accessTokenTTL = try reader.seconds("accessTokenTtl", default: accessTokenTTL)
        refreshTokenTTL = try reader.seconds("refreshTokenTtl", default: refreshTokenTTL)
        refreshReuseGrace = try reader.seconds("refreshReuseGrace", default: refreshReuseGrace, allowZero: true)
        verificationTokenTTL = try reader.seconds("verificationTokenTtl", default: verificationTokenTTL)
        resetTokenTTL = try reader.seconds("resetTokenTtl", default: resetTokenTTL)
        keyActivationDelay = try reader.seconds("keyActivationDelay", default: keyActivationDelay, allowZero: true)
        keyReloadInterval = try reader.seconds("keyReloadInterval", default: keyReloadInterval)
    }
}

/// Account rules.
///
/// Keys (under `latchkey.`): `requireEmailVerification`, `bcryptCost`, `maxSessionsPerUser`.
public struct AccountConfiguration: Sendable {
    /// Login is refused until the email address is verified.
    public var requireEmailVerification = true
    public var bcryptCost = 10
    /// Live sessions one user may have; a login past it revokes the least recently used.
    public var maxSessionsPerUser = 100

    public init() {}

    public init(reader: ConfigReader) throws {
        requireEmailVerification = try reader.flag("requireEmailVerification", default: requireEmailVerification)
        bcryptCost = try reader.integer("bcryptCost", default: bcryptCost, in: 4...16)
        maxSessionsPerUser = try reader.integer("maxSessionsPerUser", default: maxSessionsPerUser, in: 1...100_000)
    }
}
