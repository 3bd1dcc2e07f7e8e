import ArgumentParser
import Foundation
import LatchkeyAPI
import LatchkeyCore
import LatchkeyServer
import Logging

/// `latchkey users …`: accounts from the command line, through the same services as the admin API.
struct UsersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users",
        abstract: "List, show, create and change accounts.",
        subcommands: [List.self, Show.self, Create.self, Promote.self, Demote.self, Disable.self, Enable.self, MFAReset.self, Import.self]
    )

    /// Options of every `users` command.
    struct Output: ParsableArguments {
        @OptionGroup var options: CommonOptions
        @Flag(help: "One JSON object per line instead of a table.") var json = false
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Accounts, newest first.")
        @OptionGroup var output: Output
        @Option(help: "Only emails containing this text, in any case.") var email: String?

        func run() async throws {
            try await output.options.withServices { services in
                var rows: [UserSummary] = []
                var cursor: String?
                repeat {
                    let page = try await services.admin.users(emailContaining: email, limit: 200, cursor: cursor)
                    rows += page.users
                    cursor = page.nextCursor
                } while cursor != nil
                output.print(rows)
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One account.")
        @OptionGroup var output: Output
        @Argument(help: "The account's email.") var email: String

        func run() async throws {
            try await output.options.withServices { services in
                output.print([try await services.summary(email: email)])
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an account; the password is read from standard input (one line).",
            discussion: "echo 'Analytical#Engine1' | latchkey users create ada@example.com --name Ada --admin --verified"
        )
        @OptionGroup var output: Output
        @Argument(help: "The account's email.") var email: String
        @Option(help: "The name shown to people.") var name: String
        @Flag(help: "Give the account the admin role.") var admin = false
        @Flag(help: "Mark the email as verified (no mail is sent).") var verified = false

        func run() async throws {
            try await output.options.withServices { services in
                guard let password = readLine(strippingNewline: true), !password.isEmpty else {
                    throw AuthError.validation(field: "password", "is read from standard input, and none came")
                }
                let account = NewAccount(email: email, password: password, name: name, role: admin ? .admin : .user, emailVerified: verified)
                let user = try await services.accounts.createAccount(account, client: .commandLine, logger: Logger(label: "latchkey"))
                output.print([try await services.admin.user(id: user.id)])
            }
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import accounts with their bcrypt hashes from JSON lines: {email, name, passwordHash, emailVerified?, role?}.",
            discussion: """
                Hashes $2a$, $2b$ and $2y$ of cost 4 to 16 are taken as they are and replaced by one at LATCHKEY_BCRYPT_COST at the \
                account's next successful login. Emails that have an account are skipped, so running it twice is safe. Bad lines are \
                named on stderr and the exit status is 1; the good ones are imported all the same.
                """
        )
        @OptionGroup var output: Output
        @Argument(help: "A file of JSON lines, or - for standard input.") var file: String

        struct Line: Decodable {
            var email: String
            var name: String
            var passwordHash: String
            var emailVerified: Bool?
            var role: String?
        }

        func run() async throws {
            let data = file == "-" ? FileHandle.standardInput.readDataToEndOfFile() : FileManager.default.contents(atPath: file)
            guard let data else {
                FileHandle.standardError.write(Data("latchkey: cannot read \(file).\n".utf8))
                throw ExitCode(1)
            }
            let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            try await output.options.withServices { services in
                var (imported, skipped, invalid) = (0, 0, 0)
                let logger = Logger(label: "latchkey")
                for (index, text) in lines.enumerated() where !text.trimmingCharacters(in: .whitespaces).isEmpty {
                    do {
                        let line = try JSONDecoder().decode(Line.self, from: Data(text.utf8))
                        guard let role = User.Role(rawValue: line.role ?? "user") else {
                            throw AuthError.validation(field: "role", "must be user or admin")
                        }
                        let account = ImportedAccount(
                            email: line.email,
                            name: line.name,
                            passwordHash: line.passwordHash,
                            emailVerified: line.emailVerified ?? false,
                            role: role
                        )
                        switch try await services.accounts.importAccount(account, logger: logger) {
                        case .imported: imported += 1
                        case .skipped: skipped += 1
                        }
                    } catch let error as AuthError where error.code == .validationError {
                        invalid += 1
                        let details = error.details.map { "\($0.field) \($0.message)" }.joined(separator: "; ")
                        FileHandle.standardError.write(Data("latchkey: line \(index + 1): \(details)\n".utf8))
                    } catch is DecodingError {
                        invalid += 1
                        FileHandle.standardError.write(
                            Data("latchkey: line \(index + 1): not a JSON object with email, name and passwordHash\n".utf8)
                        )
                    }
                    if (index + 1) % 1000 == 0 { FileHandle.standardError.write(Data("latchkey: \(index + 1) of \(lines.count) lines read\n".utf8)) }
                }
                if output.json {
                    print(#"{"imported":\#(imported),"invalid":\#(invalid),"skipped":\#(skipped)}"#)
                } else {
                    print("imported \(imported), skipped \(skipped) (the email has an account), invalid \(invalid)")
                }
                if invalid > 0 { throw ExitCode(1) }
            }
        }
    }

    struct Promote: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Give an account the admin role.")
        @OptionGroup var output: Output
        @Argument(help: "The account's email.") var email: String
        func run() async throws { try await output.change(email, UserChanges(role: .admin)) }
    }

    struct Demote: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Give an account the user role.")
        @OptionGroup var output: Output
        @Argument(help: "The account's email.") var email: String
        func run() async throws { try await output.change(email, UserChanges(role: .user)) }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disable an account: it cannot log in, and every session ends now.")
        @OptionGroup var output: Output
        @Argument(help: "The account's email.") var email: String
        func run() async throws { try await output.change(email, UserChanges(disabled: true)) }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enable a disabled account.")
        @OptionGroup var output: Output
        @Argument(help: "The account's email.") var email: String
        func run() async throws { try await output.change(email, UserChanges(disabled: false)) }
    }

    struct MFAReset: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "mfa-reset",
            abstract: "Remove an account's TOTP and recovery codes (passkeys stay) and end every session: for a user who lost both."
        )
        @OptionGroup var output: Output
        @Argument(help: "The account's email.") var email: String

        func run() async throws {
            try await output.options.withServices { services in
                let user = try await services.summary(email: email)
                _ = try await services.secondFactors.reset(userID: user.user.id, client: .commandLine, logger: Logger(label: "latchkey"))
                output.print([try await services.admin.user(id: user.user.id)])
            }
        }
    }
}

extension UsersCommand.Output {
    func change(_ email: String, _ changes: UserChanges) async throws {
        try await options.withServices { services in
            let user = try await services.summary(email: email)
            print([try await services.admin.update(userID: user.user.id, changes, client: .commandLine, logger: Logger(label: "latchkey"))])
        }
    }

    /// A table for people, or one JSON object per line (the admin API's AdminUser) for scripts.
    func print(_ rows: [UserSummary]) {
        if json { return JSONLines.print(rows.map(\.response)) }
        let dates = ISO8601DateFormatter()
        Table.print(
            header: ["EMAIL", "NAME", "ROLE", "VERIFIED", "STATE", "MFA", "SESSIONS", "LAST LOGIN", "ID"],
            rows: rows.map { row in
                let user = row.user
                let state = user.deletedAt != nil ? "deleted" : user.disabledAt != nil ? "disabled" : "active"
                return [
                    user.email, user.name, user.role.rawValue, user.emailVerified ? "yes" : "no", state, row.mfaEnabled ? "totp" : "-",
                    String(row.activeSessions),
                    row.lastLoginAt.map(dates.string(from:)) ?? "-", user.id.uuidString.lowercased(),
                ]
            }
        )
        if rows.isEmpty { Swift.print("(no accounts)") }
    }
}

extension LatchkeyServices {
    /// The account an email names; a refusal (exit 1) when there is none.
    func summary(email: String) async throws -> UserSummary {
        guard let user = try await accounts.account(email: email) else { throw AuthError(.notFound, "No account has the email \(email)") }
        return try await admin.user(id: user.id)
    }
}
