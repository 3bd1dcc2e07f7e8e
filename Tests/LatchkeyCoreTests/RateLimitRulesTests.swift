import Configuration
import Testing

@testable import LatchkeyCore

/// The abuse limits' rules as tables: rates, GCRA buckets, the account throttle, their configuration.
@Suite struct RateLimitRulesTests {
    @Test(arguments: [("30/1m", 30, 60), ("10/1h", 10, 3600), ("600/5m", 600, 300), ("3/90", 3, 90), ("1/1d", 1, 86400)])
    func rates(text: String, count: Int, window: Int) {
        #expect(Rate(text) == Rate(count: count, window: window))
    }

    @Test(arguments: ["30", "/1m", "30/", "0/1m", "30/0s", "-1/1m", "x/1m", "30/1w", "30/1m/2", "1.5/1m", "off"])
    func badRates(text: String) {
        #expect(Rate(text) == nil)
    }

    /// A burst of N at one instant, then one request every W/N seconds; limited takes change nothing.
    @Test func bucketSequence() {
        let rate = Rate("3/1m")!
        var tat: Double?
        var outcomes: [Rate.Outcome] = []
        for now in [0.0, 0, 0, 0, 19.5, 20, 20, 100, 100, 100, 100] {
            let outcome = rate.take(tat: tat, now: now)
            if case .allowed(let next) = outcome { tat = next }
            outcomes.append(outcome)
        }
        #expect(
            outcomes == [
                .allowed(tat: 20), .allowed(tat: 40), .allowed(tat: 60), .limited(retryAfter: 20), .limited(retryAfter: 1), .allowed(tat: 80),
                .limited(retryAfter: 20), .allowed(tat: 120), .allowed(tat: 140), .allowed(tat: 160), .limited(retryAfter: 20),
            ]
        )
    }

    @Test func fractionalIntervalsStillGiveTheWholeBurst() {
        let rate = Rate("600/5m")!
        var tat: Double?
        for _ in 0..<600 {
            guard case .allowed(let next) = rate.take(tat: tat, now: 1_700_000_000.123) else {
                Issue.record("limited inside the burst")
                return
            }
            tat = next
        }
        #expect(rate.take(tat: tat, now: 1_700_000_000.123) == .limited(retryAfter: 1))
    }

    @Test(arguments: [(1, nil), (4, nil), (5, 30), (6, 60), (7, 120), (10, 900), (1000, 900)] as [(Int, Int?)])
    func waits(failures: Int, wait: Int?) {
        #expect(LoginThrottle(freeFailures: 5, delay: 30, maxDelay: 900).wait(afterFailures: failures) == wait)
    }

    @Test func throttleSequence() {
        let throttle = LoginThrottle(freeFailures: 2, delay: 10, maxDelay: 15)
        var state: LoginThrottle.State?
        var outcomes: [LoginThrottle.Reservation] = []
        for now in [0.0, 1, 5, 10.5, 11, 11, 30, 40] {
            let outcome = throttle.reserve(state, now: now)
            if case .reserved(let next) = outcome { state = next }
            outcomes.append(outcome)
        }
        #expect(
            outcomes == [
                .reserved(.init(failures: 1, waitUntil: nil)), .reserved(.init(failures: 2, waitUntil: 11)), .throttled(retryAfter: 6),
                .throttled(retryAfter: 1), .reserved(.init(failures: 3, waitUntil: 26)), .throttled(retryAfter: 15),
                .reserved(.init(failures: 4, waitUntil: 45)), .throttled(retryAfter: 5),
            ]
        )
    }

    func reader(_ values: [String: String]) -> ConfigReader {
        ConfigReader(provider: EnvironmentVariablesProvider(environmentVariables: values)).latchkey
    }

    @Test func defaults() throws {
        let configuration = try RateLimitConfiguration(reader: reader([:]))
        #expect(configuration.loginThrottle == LoginThrottle(freeFailures: 5, delay: 30, maxDelay: 900))
        #expect(
            configuration.perIP == [
                .login: Rate("30/1m"), .register: Rate("30/5m"), .email: Rate("10/5m"), .token: Rate("30/5m"), .refresh: Rate("600/5m"),
            ]
        )
        #expect(configuration.mailPerRecipient == Rate("3/1h"))
    }

    @Test func offTurnsALimitOff() throws {
        let configuration = try RateLimitConfiguration(
            reader: reader(["LATCHKEY_RATE_LIMIT_LOGIN": "off", "LATCHKEY_MAIL_PER_RECIPIENT": "OFF", "LATCHKEY_LOGIN_FREE_FAILURES": "off"])
        )
        #expect(configuration.perIP[.login] == nil)
        #expect(configuration.perIP[.register] == Rate("30/5m"))
        #expect(configuration.mailPerRecipient == nil)
        #expect(configuration.loginThrottle == nil)
    }

    @Test(arguments: [
        ("LATCHKEY_RATE_LIMIT_REFRESH", "600"), ("LATCHKEY_RATE_LIMIT_EMAIL", "ten/5m"), ("LATCHKEY_MAIL_PER_RECIPIENT", "0/1h"),
        ("LATCHKEY_LOGIN_FREE_FAILURES", "0"), ("LATCHKEY_LOGIN_DELAY", "soon"), ("LATCHKEY_LOGIN_MAX_DELAY", "0"),
    ])
    func badSettingsNameTheVariable(variable: String, value: String) {
        let error = #expect(throws: ConfigurationError.self) { try RateLimitConfiguration(reader: reader([variable: value])) }
        #expect(error?.description.hasPrefix(variable + " ") == true)
    }
}
