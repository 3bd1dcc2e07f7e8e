import ArgumentParser
import Configuration
import Foundation
import LatchkeyCore
import LatchkeyServer
import Logging
import SystemPackage

/// Options every subcommand shares. Command-line values win over the environment, which wins over `.env`.
struct CommonOptions: ParsableArguments {
    @Option(help: "Listen address (LATCHKEY_HOST).") var host: String?
    @Option(help: "Listen port (LATCHKEY_PORT).") var port: Int?
    @Option(help: "sqlite://PATH or postgres://… (LATCHKEY_DATABASE_URL).") var databaseURL: String?
    @Option(help: "An environment file to read; a missing file is fine.") var envFile: String = ".env"

    func configReader() async throws -> ConfigReader {
        var values: [AbsoluteConfigKey: ConfigValue] = [:]
        if let host { values["latchkey.host"] = .init(.string(host), isSecret: false) }
        if let port { values["latchkey.port"] = .init(.string(String(port)), isSecret: false) }
        if let databaseURL { values["latchkey.databaseUrl"] = .init(.string(databaseURL), isSecret: true) }
        return ConfigReader(providers: [
            InMemoryProvider(name: "command line", values: values),
            EnvironmentVariablesProvider(),
            try await EnvironmentVariablesProvider(environmentFilePath: FilePath(envFile), allowMissing: true),
        ])
    }

    /// Reads the whole configuration, sets up logging and runs `body`; a bad setting ends the process with one
    /// sentence naming the variable and exit code 78 (EX_CONFIG) instead of a stack of errors. Every command reads all
    /// of it, so a bad setting shows before it matters.
    func reportingConfigurationErrors(_ body: (LatchkeyConfiguration) async throws -> Void) async throws {
        do {
            let configuration = try await LatchkeyConfiguration(reader: try await configReader())
            LoggingSystem.bootstrap(level: configuration.server.logLevel, format: configuration.server.logFormat)
            try await body(configuration)
        } catch let error as ConfigurationError {
            FileHandle.standardError.write(Data("latchkey: configuration error: \(error)\n".utf8))
            throw ExitCode(78)
        }
    }

    /// For the commands that act on accounts: opens the services over the configured database and runs `body`; a
    /// refused action (an `AuthError`: no such user, a taken email, a bad value) ends the process with its message on
    /// stderr and exit code 1.
    func withServices(_ body: @escaping @Sendable (LatchkeyServices) async throws -> Void) async throws {
        try await reportingConfigurationErrors { configuration in
            let services = try await LatchkeyServices.open(configuration: configuration, logger: Logger(label: "latchkey"))
            try await refusing { try await services.whileConnected { try await body(services) } }
        }
    }

    /// Runs `body`; a refused action (an `AuthError`) ends the process with its message on stderr and exit code 1.
    func refusing<Value>(_ body: () async throws -> Value) async throws -> Value {
        do {
            return try await body()
        } catch let error as AuthError {
            let details = error.details.map { "\($0.field) \($0.message)" }.joined(separator: "; ")
            FileHandle.standardError.write(Data("latchkey: \(error.message)\(details.isEmpty ? "" : ": \(details)").\n".utf8))
            throw ExitCode(1)
        }
    }
}
