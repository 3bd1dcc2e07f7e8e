import Configuration

/// A setting that cannot be used; the message names the environment variable so start-up fails with one clear sentence.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public var description: String

    public init(key: String, _ problem: String) {
        self.description = "\(ConfigurationError.variableName(key)) \(problem)"
    }

    public init(_ description: String) {
        self.description = description
    }

    /// `jwt.accessTokenTtl` → `LATCHKEY_JWT_ACCESS_TOKEN_TTL`, as swift-configuration's environment provider maps keys.
    static func variableName(_ key: String) -> String {
        var name = "LATCHKEY"
        for component in key.split(separator: ".") {
            name += "_"
            var previous: Character?
            for character in component {
                if let previous, previous.isLowercase, character.isUppercase { name += "_" }
                name += character.uppercased()
                previous = character
            }
        }
        return name
    }
}

extension ConfigReader {
    /// Every Latchkey key lives under `latchkey.` (`latchkey.jwt.algorithm` is `LATCHKEY_JWT_ALGORITHM`).
    public var latchkey: ConfigReader { scoped(to: "latchkey") }

    /// A trimmed string; empty counts as unset. `defaultText` is what the key reads as when unset, written as the docs
    /// write it: swift-configuration's access reporter sees it, and a test holds `.env.example` and
    /// `docs/configuration.md` to it. A default that depends on other settings is not given here.
    public func text(_ key: String, isSecret: Bool = false, default defaultText: String? = nil) -> String? {
        let value =
            if let defaultText { string(forKey: ConfigKey(key), isSecret: isSecret, default: defaultText) } else {
                string(forKey: ConfigKey(key), isSecret: isSecret)
            }
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        return value
    }

    /// A duration in whole seconds: `30s`, `15m`, `24h`, `7d` or plain seconds.
    public func seconds(_ key: String, default defaultValue: Int, allowZero: Bool = false) throws -> Int {
        guard let value = text(key, default: Duration.text(seconds: defaultValue)) else { return defaultValue }
        guard let amount = Duration.seconds(parsing: value), amount > 0 || allowZero else {
            throw ConfigurationError(key: key, "must be a duration such as 30s, 15m, 24h, 7d or a number of seconds, not '\(value)'")
        }
        return amount
    }

    /// An integer within `range`. `dependsOnOtherSettings`: the default is not the same for every configuration, so it
    /// is not reported (see `text`).
    public func integer(_ key: String, default defaultValue: Int, in range: ClosedRange<Int>, dependsOnOtherSettings: Bool = false) throws -> Int {
        guard let value = text(key, default: dependsOnOtherSettings ? nil : String(defaultValue)) else { return defaultValue }
        guard let number = Int(value), range.contains(number) else {
            throw ConfigurationError(key: key, "must be a whole number from \(range.lowerBound) to \(range.upperBound), not '\(value)'")
        }
        return number
    }

    /// `true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`).
    public func flag(_ key: String, default defaultValue: Bool) throws -> Bool {
        guard let value = text(key, default: String(defaultValue))?.lowercased() else { return defaultValue }
        switch value {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default: throw ConfigurationError(key: key, "must be true or false, not '\(value)'")
        }
    }

    /// One of the raw values of `T`. `dependsOnOtherSettings` as for `integer`.
    public func choice<T: RawRepresentable & CaseIterable>(_ key: String, default defaultValue: T, dependsOnOtherSettings: Bool = false) throws -> T
    where T.RawValue == String {
        guard let value = text(key, default: dependsOnOtherSettings ? nil : defaultValue.rawValue) else { return defaultValue }
        guard let choice = T.allCases.first(where: { $0.rawValue.lowercased() == value.lowercased() }) else {
            let names = T.allCases.map(\.rawValue).joined(separator: ", ")
            throw ConfigurationError(key: key, "must be one of \(names), not '\(value)'")
        }
        return choice
    }
}
