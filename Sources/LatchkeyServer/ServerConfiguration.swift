import Configuration
import Foundation
import LatchkeyCore
import Logging

/// Where the server listens and what it talks to.
///
/// Keys (under `latchkey.`): `host`, `port` (see `ListenAddress`), `databaseUrl`, `maxBodySize` (bytes), `corsOrigins`
/// (comma-separated), `requestHeaderTimeout`, `idleTimeout`, `cleanupInterval`, `hsts` (auto, on or off), `logLevel`, `logFormat`.
public struct ServerConfiguration: Sendable {
    public enum LogFormat: String, Sendable, CaseIterable {
        case text
        case json
    }

    /// `Strict-Transport-Security`: `auto` sends it when the app URL is https.
    public enum HSTS: String, Sendable, CaseIterable {
        case auto, on, off
    }

    public var address = ListenAddress()
    public var databaseURL = "sqlite://latchkey.sqlite"
    public var maxBodySize = 64 * 1024
    public var corsOrigins: Set<String> = []
    /// Seconds a connection may sit on a partly sent request before it is closed.
    public var requestHeaderTimeout = 10
    /// Seconds an idle keep-alive connection is kept open.
    public var idleTimeout = 60
    /// Seconds between runs of the cleanup job.
    public var cleanupInterval = 3600
    public var hsts: HSTS = .auto
    public var logLevel: Logger.Level = .info
    public var logFormat: LogFormat = .text

    public init(reader: ConfigReader) throws {
        address = try ListenAddress(reader: reader)
        databaseURL = reader.text("databaseUrl", isSecret: true) ?? databaseURL
        maxBodySize = try reader.integer("maxBodySize", default: maxBodySize, in: 1024...(16 * 1024 * 1024))
        corsOrigins = Set(
            (reader.text("corsOrigins") ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        )
        requestHeaderTimeout = try reader.seconds("requestHeaderTimeout", default: requestHeaderTimeout)
        idleTimeout = try reader.seconds("idleTimeout", default: idleTimeout)
        cleanupInterval = try reader.seconds("cleanupInterval", default: cleanupInterval)
        hsts = try reader.choice("hsts", default: hsts)
        logLevel = try reader.choice("logLevel", default: logLevel)
        logFormat = try reader.choice("logFormat", default: logFormat)
    }

    /// Whether every answer carries `Strict-Transport-Security`, for the server whose links point at `appURL`.
    public func sendsHSTS(appURL: String) -> Bool {
        switch hsts {
        case .on: true
        case .off: false
        case .auto: appURL.lowercased().hasPrefix("https://")
        }
    }
}
