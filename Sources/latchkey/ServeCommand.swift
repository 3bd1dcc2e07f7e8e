import ArgumentParser
import LatchkeyServer
import Logging
import Metrics
import Prometheus

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the server. Pending migrations are applied at start; signing keys are created on first start."
    )

    @OptionGroup var options: CommonOptions

    func run() async throws {
        try await options.reportingConfigurationErrors { configuration in
            let registry = PrometheusCollectorRegistry()
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
            let app = try await buildApplication(configuration: configuration, metrics: registry, logger: Logger(label: "latchkey"))
            try await app.runService()
        }
    }
}
