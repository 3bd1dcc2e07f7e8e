import Configuration

/// The abuse limits. A rate is `N/DURATION` or `off`.
///
/// Keys (under `latchkey.`; defaults in docs/configuration.md, held to the code by a test): `login.freeFailures` (or
/// `off` for no account throttle), `login.delay`, `login.maxDelay`, `rateLimit.login`, `rateLimit.register`,
/// `rateLimit.email`, `rateLimit.token`, `rateLimit.refresh`, `mail.perRecipient`.
public struct RateLimitConfiguration: Sendable {
    public var loginThrottle: LoginThrottle?
    public var perIP: [RateLimiter.Budget: Rate]
    public var mailPerRecipient: Rate?

    static let defaults: [RateLimiter.Budget: String] = [
        .login: "30/1m", .register: "30/5m", .email: "10/5m", .token: "30/5m", .refresh: "600/5m",
    ]

    public init(reader: ConfigReader) throws {
        if reader.text("login.freeFailures")?.lowercased() == "off" {
            loginThrottle = nil
        } else {
            loginThrottle = LoginThrottle(
                freeFailures: try reader.integer("login.freeFailures", default: 5, in: 1...1000),
                delay: try reader.seconds("login.delay", default: 30),
                maxDelay: try reader.seconds("login.maxDelay", default: 900)
            )
        }
        perIP = [:]
        for (budget, defaultRate) in Self.defaults {
            perIP[budget] = try Self.rate(reader, "rateLimit.\(budget.rawValue)", default: defaultRate)
        }
        mailPerRecipient = try Self.rate(reader, "mail.perRecipient", default: "3/1h")
    }

    private static func rate(_ reader: ConfigReader, _ key: String, default defaultValue: String) throws -> Rate? {
        let value = reader.text(key, default: defaultValue) ?? defaultValue
        if value.lowercased() == "off" { return nil }
        guard let rate = Rate(value) else {
            throw ConfigurationError(key: key, "must be a rate such as 30/1m or 10/1h (N per duration), or off, not '\(value)'")
        }
        return rate
    }
}
