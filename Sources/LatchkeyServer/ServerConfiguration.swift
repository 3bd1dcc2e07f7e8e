import Configuration
import Foundation
import LatchkeyCore
import Logging

/// Where the server listens and what it talks to.
///
/// Keys (under `latchkey.`): `host`, `port`, `databaseUrl`, `maxBodySize` (bytes), `corsOrigins` (comma-separated),
/// `logLevel`, `logFormat`.
public struct ServerConfiguration: Sendable {
    public enum LogFormat: String, Sendable, CaseIterable {
        case text
        case json
    }

    public var host = "127.0.0.1"
    public var port = 8080
    public var databaseURL = "sqlite://latchkey.sqlite"
    public var maxBodySize = 64 * 1024
    public var corsOrigins: Set<String> = []
    public var logLevel: Logger.Level = .info
    public var logFormat: LogFormat = .text

    public init(reader: ConfigReader) throws {
        host = reader.text("host") ?? host
        port = try reader.integer("port", default: port, in: 0...65535)
        databaseURL = reader.text("databaseUrl", isSecret: true) ?? databaseURL
        maxBodySize = try reader.integer("maxBodySize", default: maxBodySize, in: 1024...(16 * 1024 * 1024))
        corsOrigins = Set((reader.text("corsOrigins") ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        logLevel = try reader.choice("logLevel", default: logLevel)
        logFormat = try reader.choice("logFormat", default: logFormat)
    }
}

