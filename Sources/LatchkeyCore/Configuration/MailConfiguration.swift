import Configuration
import Foundation

/// How account mails are written and delivered.
///
/// Keys (under `latchkey.`): `appUrl` (default: the listen address, see `ListenAddress`), `mail.transport` (log or smtp), `mail.from`, `smtp.host`, `smtp.port`,
/// `smtp.username`, `smtp.password` (secret), `smtp.tls` (none, starttls, tls), `smtp.caFile`, `mail.retryMaxDelay`,
/// `mail.retention`, `mail.pollInterval` (milliseconds).
public struct MailConfiguration: Sendable {
    public enum Transport: String, Sendable, CaseIterable {
        /// Print mails, links included, to the log: the first-run default.
        case log
        case smtp
    }

    public enum TLSMode: String, Sendable, CaseIterable {
        case none
        case starttls
        case tls
    }

    public var appURL = "http://localhost:8080"
    public var transport: Transport = .log
    public var from = "Latchkey <no-reply@localhost>"
    public var smtpHost = "127.0.0.1"
    public var smtpPort = 25
    public var smtpUsername: String?
    public var smtpPassword: String?
    public var smtpTLS: TLSMode = .none
    /// A PEM file of certificates to trust instead of the system's (a private CA).
    public var smtpCAFile: String?
    /// Seconds; the cap of the exponential retry backoff.
    public var retryMaxDelay = 300
    /// Seconds that delivered and failed mails are kept before cleanup.
    public var retention = 7 * 86400
    /// Milliseconds between looks at the outbox.
    public var pollInterval = 250

    public init() {}

    public init(reader: ConfigReader) throws {
        appURL = try reader.text("appUrl") ?? ListenAddress(reader: reader).url
        guard appURL.hasPrefix("http://") || appURL.hasPrefix("https://") else {
            throw ConfigurationError(key: "appUrl", "must be an http:// or https:// URL, not '\(appURL)'")
        }
        transport = try reader.choice("mail.transport", default: transport)
        from = reader.text("mail.from", default: from) ?? from
        guard from.contains("@") else { throw ConfigurationError(key: "mail.from", "must be an email address, not '\(from)'") }
        smtpHost = reader.text("smtp.host") ?? smtpHost
        smtpUsername = reader.text("smtp.username")
        smtpPassword = reader.text("smtp.password", isSecret: true)
        // Encrypted by default, except to a relay on this machine.
        let local = ["127.0.0.1", "localhost", "::1"].contains(smtpHost)
        smtpTLS = try reader.choice("smtp.tls", default: local ? .none : .starttls, dependsOnOtherSettings: true)
        let defaultPort =
            switch smtpTLS {
            case .none: 25
            case .starttls: 587
            case .tls: 465
            }
        smtpPort = try reader.integer("smtp.port", default: defaultPort, in: 1...65535, dependsOnOtherSettings: true)
        smtpCAFile = reader.text("smtp.caFile")
        if let smtpCAFile, !FileManager.default.isReadableFile(atPath: smtpCAFile) {
            throw ConfigurationError(key: "smtp.caFile", "names a file that cannot be read: '\(smtpCAFile)'")
        }
        if transport == .smtp, reader.text("smtp.host") == nil {
            throw ConfigurationError(key: "smtp.host", "must be set when LATCHKEY_MAIL_TRANSPORT is smtp")
        }
        retryMaxDelay = try reader.seconds("mail.retryMaxDelay", default: retryMaxDelay)
        retention = try reader.seconds("mail.retention", default: retention)
        pollInterval = try reader.integer("mail.pollInterval", default: pollInterval, in: 10...60000)
    }

    /// The domain of the sender address, for Message-IDs.
    public var senderDomain: String {
        let address = from.split(separator: "<").last.map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "<> ")) } ?? from
        return address.split(separator: "@").last.map(String.init) ?? "localhost"
    }
}
