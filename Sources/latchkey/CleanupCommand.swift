import ArgumentParser
import Foundation
import LatchkeyCore
import LatchkeyServer
import Logging

/// `latchkey cleanup`: what the server's cleanup job does every `LATCHKEY_CLEANUP_INTERVAL`, once, now.
struct CleanupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cleanup",
        abstract: "Delete ended sessions, spent emailed tokens, old mails and audit events, and spent rate-limit counters, in batches."
    )

    @OptionGroup var options: CommonOptions
    @Flag(help: "One JSON object instead of a table.") var json = false

    func run() async throws {
        try await options.withServices { services in
            let report = try await services.cleanup.run(logger: Logger(label: "latchkey"))
            if json {
                JSONLines.print([report])
            } else {
                Table.print(
                    header: ["DELETED", "ROWS"],
                    rows: [
                        ["sessions", String(report.sessions)], ["email tokens", String(report.emailTokens)], ["mails", String(report.mails)],
                        ["rate-limit counters", String(report.rateLimitCounters)], ["audit events", String(report.auditEvents)],
                        ["sign-in challenges", String(report.mfaChallenges)],
                        ["passkey challenges", String(report.passkeyChallenges)],
                    ]
                )
            }
        }
    }
}
