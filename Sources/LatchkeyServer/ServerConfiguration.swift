import Configuration
import Foundation
import LatchkeyCore
import Logging

/// Where the server listens and what it talks to.
///
/// Keys (under `latchkey.`): `host`, `port` (see `ListenAddress`), `databaseUrl`, `maxBodySize` (bytes), `corsOrigins`
/// (comma-separated), `requestHeaderTimeout`, `idleTimeout`, `cleanupInterval`, `hsts` (auto, on or off), `refreshCookie` (on or off),
/// `logLevel`, `logFormat`.
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
    /// Cookie mode: browser apps on allowed origins get the refresh token in an HttpOnly cookie (`RefreshCookie`).
    public var refreshCookie = false
    public var logLevel: Logger.Level = .info
    public var logFormat: LogFormat = .text

    public init(reader: ConfigReader) throws {
        address = try ListenAddress(reader: reader)
        databaseURL = reader.text("databaseUrl", isSecret: true, default: databaseURL) ?? databaseURL
        maxBodySize = try reader.integer("maxBodySize", default: maxBodySize, in: 1024...(16 * 1024 * 1024))
        corsOrigins = Set(
            (reader.text("corsOrigins") ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        )
        requestHeaderTimeout = try reader.seconds("requestHeaderTimeout", default: requestHeaderTimeout)
        idleTimeout = try reader.seconds("idleTimeout", default: idleTimeout)
        cleanupInterval = try reader.seconds("cleanupInterval", default: cleanupInterval)
        hsts = try reader.choice("hsts", default: hsts)
        refreshCookie = try reader.flag("refreshCookie", default: refreshCookie)
        logLevel = try reader.choice("logLevel", default: logLevel)
        logFormat = try reader.choice("logFormat", default: logFormat)
    }

    /// The browser origins the server trusts: `corsOrigins` and the origin of the app URL (where the operator's web app,
    /// or the server's own pages, live).
    public func allowedOrigins(appURL: String) -> Set<String> {
        corsOrigins.union(Self.origin(of: appURL).map { [$0] } ?? [])
    }

    /// The pages that may post the forms of the emailed-link pages: the app URL's and the server's own.
    public func formOrigins(appURL: String) -> Set<String> {
        Set(([appURL] + address.urls).compactMap(Self.origin(of:)))
    }

    /// `scheme://host[:port]` as a browser sends it in `Origin`: lower-cased, the default port left out.
    public static func origin(of url: String) -> String? {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(), let host = components.host?.lowercased(),
            !host.isEmpty
        else { return nil }
        let defaultPort = scheme == "https" ? 443 : 80
        let port = components.port.flatMap { $0 == defaultPort ? nil : ":\($0)" } ?? ""
        let bracketed = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        return "\(scheme)://\(bracketed)\(port)"
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
