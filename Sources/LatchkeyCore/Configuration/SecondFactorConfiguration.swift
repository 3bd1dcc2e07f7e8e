import Configuration

/// Second factors and the confirmation of sensitive actions.
///
/// Keys (under `latchkey.`; defaults in docs/configuration.md, held to the code by a test): `productName` (the TOTP
/// issuer), `reauthMaxAge`, `mfa.freeFailures`, `mfa.delay`, `mfa.maxDelay`, `adminRequireMfa`.
public struct SecondFactorConfiguration: Sendable {
    /// The name authenticator apps show beside the account.
    public var issuer = "Latchkey"
    /// Seconds: how recent the sign-in of an account without a password must be to confirm a sensitive action.
    public var reauthMaxAge = 600
    /// Wrong codes, per account, in a budget of their own: a password attempt never uses it, nor the reverse.
    public var throttle = LoginThrottle(freeFailures: 5, delay: 30, maxDelay: 900)
    /// `/admin` routes refuse a token whose `amr` lacks `mfa`.
    public var adminRequiresMFA = false

    public init() {}

    public init(reader: ConfigReader) throws {
        issuer = reader.productName
        reauthMaxAge = try reader.seconds("reauthMaxAge", default: reauthMaxAge)
        throttle = LoginThrottle(
            freeFailures: try reader.integer("mfa.freeFailures", default: throttle.freeFailures, in: 1...1000),
            delay: try reader.seconds("mfa.delay", default: throttle.delay),
            maxDelay: try reader.seconds("mfa.maxDelay", default: throttle.maxDelay)
        )
        adminRequiresMFA = try reader.flag("adminRequireMfa", default: adminRequiresMFA)
    }
}

extension ConfigReader {
    /// `productName`: what pages, mails and authenticator apps call the service.
    public var productName: String {
        text("productName", default: "Latchkey") ?? "Latchkey"
    }
}
