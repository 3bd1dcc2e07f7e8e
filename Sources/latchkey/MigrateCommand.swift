import ArgumentParser
import LatchkeyServer
import Logging

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "migrate", abstract: "Apply pending database migrations and exit.")

    @OptionGroup var options: CommonOptions

    func run() async throws {
        try await options.reportingConfigurationErrors { configuration in
            let logger = Logger(label: "latchkey")
            try await migrateDatabase(configuration: configuration, logger: logger)
            logger.info("migrations applied")
        }
    }
}
