import ArgumentParser
import Configuration
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

    /// Builds the configuration, sets up logging and runs `body`; a bad setting ends the process with one
    /// sentence naming the variable and exit code 78 (EX_CONFIG) instead of a stack of errors.
    func reportingConfigurationErrors(_ body: (ConfigReader, ServerConfiguration) async throws -> Void) async throws {
        do {
            let reader = try await configReader()
            let server = try ServerConfiguration(reader: reader.latchkey)
            LoggingSystem.bootstrap(level: server.logLevel, format: server.logFormat)
            try await body(reader, server)
        } catch let error as ConfigurationError {
            print("latchkey: configuration error: \(error)")
            throw ExitCode(78)
        }
    }
}
