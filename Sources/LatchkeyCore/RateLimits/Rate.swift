import Foundation

/// A budget `N/W`: N requests at once, then N per W, refilled evenly.
///
/// Kept as GCRA (the generic cell rate algorithm): a bucket is one number, the theoretical arrival time `tat`,
/// the moment at which the bucket would be full again. One number makes the database's check a single
/// atomic statement: PostgreSQL restates `take(tat:now:)` in SQL, and the store conformance suite pins both.
public struct Rate: Sendable, Equatable, CustomStringConvertible {
    public let count: Int
    /// Seconds.
    public let window: Int

    public init?(count: Int, window: Int) {
        guard count > 0, window > 0 else { return nil }
        self.count = count
        self.window = window
    }

    /// `N/DURATION` (`30/1m`, `10/1h`, `600/300`); nil for anything else.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let count = Int(parts[0]), let window = Duration.seconds(parsing: String(parts[1])) else { return nil }
        self.init(count: count, window: window)
    }

    public var description: String { "\(count)/\(window)s" }

    /// Seconds between two requests once the burst is spent.
    public var interval: Double { Double(window) / Double(count) }

    public enum Outcome: Sendable, Equatable {
        /// Store `tat` as the bucket's new state.
        case allowed(tat: Double)
        /// The bucket is unchanged; the next request is allowed in `retryAfter` whole seconds (at least 1).
        case limited(retryAfter: Int)
    }

    /// Takes one request from a bucket whose state is `tat` (nil: a full bucket), at `now` (seconds since 1970).
    public func take(tat: Double?, now: Double) -> Outcome {
        let next = max(tat ?? now, now) + interval
        // A microsecond of slack, so that N requests at one instant all fit despite rounding.
        if next - now <= Double(window) + 1e-6 { return .allowed(tat: next) }
        return .limited(retryAfter: retryAfter(tat: tat ?? now, now: now))
    }

    /// Seconds until a bucket whose state is `tat` lets the next request through.
    public func retryAfter(tat: Double, now: Double) -> Int {
        Self.wholeSeconds(max(tat, now) + interval - Double(window) - now)
    }

    /// `Retry-After` is whole seconds and at least 1.
    public static func wholeSeconds(_ seconds: Double) -> Int {
        max(1, Int(seconds.rounded(.up)))
    }
}

extension Duration {
    /// Whole seconds of `30s`, `15m`, `24h`, `7d` or a plain number of seconds; nil for anything else or a negative.
    static func seconds(parsing text: String) -> Int? {
        let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        var number = Substring(text)
        var unit = 1
        if let last = text.last, let multiplier = units[last] {
            number = number.dropLast()
            unit = multiplier
        }
        guard let amount = Int(number), amount >= 0, amount <= Int(Int32.max) else { return nil }
        return amount * unit
    }

    /// `seconds` as the docs write a duration: in its largest whole unit (`900` is `15m`).
    static func text(seconds: Int) -> String {
        for (unit, size) in [("d", 86400), ("h", 3600), ("m", 60)] where seconds > 0 && seconds.isMultiple(of: size) {
            return "\(seconds / size)\(unit)"
        }
        return seconds == 0 ? "0" : "\(seconds)s"
    }
}
