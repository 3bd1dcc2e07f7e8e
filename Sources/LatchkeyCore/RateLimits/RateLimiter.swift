import Foundation
import LatchkeyAPI
import Logging
import Metrics

/// Applies the abuse limits, with their state in the database: every instance on one database enforces one budget.
public struct RateLimiter: Sendable {
    /// The per-client-IP budgets, as configured: one row of the contract's table each.
    public enum Budget: String, Sendable, CaseIterable {
        case login, register, email, token, refresh
    }

    /// The limited routes. Each has a bucket of its own per IP, with its budget's rate.
    public enum Route: String, Sendable {
        case login, register, refresh
        case resendVerification = "verify-email/resend"
        case forgotPassword = "forgot-password"
        case verifyEmail = "verify-email"
        case resetPassword = "reset-password"

        public var budget: Budget {
            switch self {
            case .login: .login
            case .register: .register
            case .refresh: .refresh
            case .resendVerification, .forgotPassword: .email
            case .verifyEmail, .resetPassword: .token
            }
        }
    }

    let store: any RateLimitStore
    public let configuration: RateLimitConfiguration

    public init(store: any RateLimitStore, configuration: RateLimitConfiguration) {
        self.store = store
        self.configuration = configuration
    }

    /// Throws `RATE_LIMITED` when the client IP's budget for `route` is spent. Without an IP (no socket), nothing is limited.
    public func check(_ route: Route, ip: String?, now: Date = Date()) async throws {
        guard let bucket = bucket(route, ip: ip) else { return }
        if case .limited(let retryAfter) = try await store.take(bucket, now: now) {
            throw Self.limited(route.budget.rawValue, retryAfter: retryAfter)
        }
    }

    /// Whether another verification or reset mail may go to `email` now; takes from its budget when so.
    func allowsMail(to email: String, now: Date = Date()) async throws -> Bool {
        guard let rate = configuration.mailPerRecipient else { return true }
        guard case .limited = try await store.take(RateBucket(key: "mail:" + Self.digest(email), rate: rate), now: now) else { return true }
        Self.countLimited("mail_recipient")
        return false
    }

    /// A login attempt that may go on to check the password: its IP budget is taken, and a failure is reserved on
    /// the account's throttle, in one round trip. Throws `RATE_LIMITED` when either says no.
    func reserveLogin(email: String, ip: String?, now: Date = Date()) async throws -> LoginReservation {
        let account = Self.accountKey(email)
        let ipBucket = bucket(.login, ip: ip)
        guard let throttle = configuration.loginThrottle else {
            try await check(.login, ip: ip, now: now)
            return LoginReservation(account: account, state: nil)
        }
        switch try await store.reserveLoginAttempt(LoginAttempt(accountKey: account, throttle: throttle, ipBucket: ipBucket), now: now) {
        case .reserved(let state):
            return LoginReservation(account: account, state: state)
        case .ipLimited(let retryAfter):
            throw Self.limited(Budget.login.rawValue, retryAfter: retryAfter)
        case .throttled(let retryAfter):
            throw Self.limited("login_account", retryAfter: retryAfter)
        }
    }

    /// Ends the account's count and any wait, as a successful password reset does.
    func clearLoginFailures(email: String) async throws {
        guard configuration.loginThrottle != nil else { return }
        try await store.clearLoginFailures(accountKey: Self.accountKey(email))
    }

    /// A right code ends the account's count of wrong ones.
    func clearSecondFactorFailures(userID: UUID) async throws {
        try await store.clearLoginFailures(accountKey: Self.secondFactorKey(userID))
    }

    private func bucket(_ route: Route, ip: String?) -> RateBucket? {
        guard let ip, let rate = configuration.perIP[route.budget] else { return nil }
        return RateBucket(key: "ip:\(route.rawValue):\(ip)", rate: rate)
    }

    static func accountKey(_ email: String) -> String { "account:" + digest(email) }

    /// The key of an account's second-factor budget in the throttles' table.
    public static func secondFactorKey(_ userID: UUID) -> String { "mfa:" + userID.uuidString.lowercased() }

    /// Counter keys never hold an email in the clear.
    static func digest(_ text: String) -> String {
        Base64URL.encode(RandomToken.hash(text))
    }

    static func limited(_ limit: String, retryAfter: Int) -> AuthError {
        countLimited(limit)
        return AuthError.rateLimited(retryAfter: retryAfter)
    }

    private static func countLimited(_ limit: String) {
        limitedCounters[limit]?.increment()
    }

    /// Made once (after `serve` bootstraps the metrics system): under attack nearly every request is a 429, and a
    /// counter made per request is a registry look-up under its lock each time.
    private static let limitedCounters = Measured.counters(
        "latchkey_rate_limited_total",
        "limit",
        Budget.allCases.map(\.rawValue) + ["login_account", "mfa_account", "mail_recipient"]
    )
}

/// A login attempt let through the limits. Its failure is already counted; a successful login clears it.
struct LoginReservation: Sendable {
    /// The account's counter key.
    var account: String
    /// What the throttle holds now; nil when it is off.
    var state: LoginThrottle.State?

    /// The throttle state a successful login clears.
    var accountKey: String? { state == nil ? nil : account }

    /// A short, stable name for the account in logs: never the email.
    var logName: String { String(account.dropFirst("account:".count).prefix(12)) }
}
