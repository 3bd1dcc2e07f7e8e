import Foundation

/// The account throttle: after `freeFailures` consecutive failed logins an account waits `delay` seconds, and
/// each further failure (an attempt made after the wait) doubles the wait, up to `maxDelay`. Never a lock.
///
/// An attempt reserves its failure before the password is checked, so concurrent attempts cannot get past the
/// budget; a successful login deletes the state. SQLite runs `reserve` inside its write transaction; PostgreSQL
/// restates it in one SQL statement, pinned by the store conformance suite.
public struct LoginThrottle: Sendable, Equatable {
    public var freeFailures: Int
    /// Seconds.
    public var delay: Int
    public var maxDelay: Int

    /// Failures are forgotten a day after the last one (the cleanup job deletes them), unless a wait is still running.
    public static let memory: TimeInterval = 86400

    public init(freeFailures: Int, delay: Int, maxDelay: Int) {
        self.freeFailures = freeFailures
        self.delay = delay
        self.maxDelay = max(delay, maxDelay)
    }

    /// An account's stored state.
    public struct State: Sendable, Equatable {
        public var failures: Int
        /// Seconds since 1970; nil before the free failures are spent.
        public var waitUntil: Double?

        public init(failures: Int, waitUntil: Double?) {
            self.failures = failures
            self.waitUntil = waitUntil
        }
    }

    public enum Reservation: Sendable, Equatable {
        /// The attempt may be checked; `state` is stored and already counts it as a failure.
        case reserved(State)
        /// The account is waiting: the attempt is not evaluated, and nothing changes.
        case throttled(retryAfter: Int)
    }

    /// The wait that starts with the `failures`-th consecutive failure, in seconds; nil while failures are free.
    public func wait(afterFailures failures: Int) -> Int? {
        guard failures >= freeFailures else { return nil }
        let doublings = min(failures - freeFailures, 30)
        return min(maxDelay, delay << doublings)
    }

    public func reserve(_ state: State?, now: Double) -> Reservation {
        if let waitUntil = state?.waitUntil, waitUntil > now {
            return .throttled(retryAfter: Rate.wholeSeconds(waitUntil - now))
        }
        let failures = (state?.failures ?? 0) + 1
        return .reserved(State(failures: failures, waitUntil: wait(afterFailures: failures).map { now + Double($0) }))
    }
}
