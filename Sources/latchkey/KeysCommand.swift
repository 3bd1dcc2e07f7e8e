import ArgumentParser
import Foundation
import LatchkeyCore
import LatchkeyServer
import Logging

/// `latchkey keys …`: signing-key rotation without downtime. Rotate, wait for the activation delay and for the old
/// key's tokens to expire (the access-token lifetime), then retire the old key.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "List, rotate and retire signing keys.",
        subcommands: [List.self, Rotate.self, Retire.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every signing key, retired ones too, oldest first.")
        @OptionGroup var options: CommonOptions
        @Flag(help: "One JSON object per line instead of a table.") var json = false

        func run() async throws {
            try await options.withServices { services in
                let signing = try await services.keys.signingKey()?.kid
                let now = Date()
                let rows = try await services.keys.list().map { key in
                    let state =
                        key.retiredAt != nil ? "retired" : key.kid == signing ? "signing" : key.activatesAt > now ? "pending" : "published"
                    return KeyRow(
                        kid: key.kid,
                        algorithm: key.algorithm.rawValue,
                        state: state,
                        createdAt: key.createdAt,
                        activatesAt: key.activatesAt,
                        retiredAt: key.retiredAt
                    )
                }
                KeyRow.print(rows, json: json)
            }
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a signing key: published in the JWKS at once, signing after LATCHKEY_KEY_ACTIVATION_DELAY."
        )
        @OptionGroup var options: CommonOptions
        @Flag(help: "One JSON object per line instead of a table.") var json = false
        @Option(help: "EdDSA, ES256 or RS256 (default: LATCHKEY_JWT_ALGORITHM).") var algorithm: String?

        func run() async throws {
            try await options.withServices { services in
                var chosen: SigningAlgorithm?
                if let algorithm {
                    guard let value = SigningAlgorithm.allCases.first(where: { $0.rawValue.lowercased() == algorithm.lowercased() }) else {
                        throw AuthError.validation(field: "algorithm", "must be EdDSA, ES256 or RS256")
                    }
                    chosen = value
                }
                let key = try await services.keys.rotate(algorithm: chosen, client: .commandLine, logger: Logger(label: "latchkey"))
                KeyRow.print(
                    [
                        KeyRow(
                            kid: key.kid,
                            algorithm: key.algorithm.rawValue,
                            state: "pending",
                            createdAt: key.createdAt,
                            activatesAt: key.activatesAt,
                            retiredAt: nil
                        )
                    ],
                    json: json
                )
            }
        }
    }

    struct Retire: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Retire a key: tokens it signed are refused from then on.")
        @OptionGroup var options: CommonOptions
        @Argument(help: "The key's kid (see keys list).") var kid: String

        func run() async throws {
            try await options.withServices { services in
                try await services.keys.retire(kid: kid, client: .commandLine, logger: Logger(label: "latchkey"))
                print("retired \(kid)")
            }
        }
    }
}

/// One key as `keys list` shows it: never its private part.
struct KeyRow: Encodable {
    var kid: String
    var algorithm: String
    var state: String
    var createdAt: Date
    var activatesAt: Date
    var retiredAt: Date?

    static func print(_ rows: [KeyRow], json: Bool) {
        let dates = ISO8601DateFormatter()
        if json { return JSONLines.print(rows) }
        Table.print(
            header: ["KID", "ALGORITHM", "STATE", "CREATED", "ACTIVATES", "RETIRED"],
            rows: rows.map { row in
                [
                    row.kid, row.algorithm, row.state, dates.string(from: row.createdAt), dates.string(from: row.activatesAt),
                    row.retiredAt.map(dates.string(from:)) ?? "-",
                ]
            }
        )
    }
}
