import ArgumentParser
import LatchkeyServer
import Logging
import Metrics
import Prometheus

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the server. SQLite databases are migrated at start; signing keys are created on first start."
    )

    @OptionGroup var options: CommonOptions

    func run() async throws {
        try await options.reportingConfigurationErrors(validatingAll: false) { reader, _ in
            let registry = PrometheusCollectorRegistry()
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
            let app = try await buildApplication(reader: reader, metrics: registry, logger: Logger(label: "latchkey"))
            try await app.runService()
        }
    }
}

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "migrate", abstract: "Apply pending database migrations and exit.")

    @OptionGroup var options: CommonOptions

    func run() async throws {
        try await options.reportingConfigurationErrors { reader, _ in
            let logger = Logger(label: "latchkey")
            try await migrateDatabase(reader: reader, logger: logger)
            logger.info("migrations applied")
        }
    }
}
