import ArgumentParser
import Foundation
import LatchkeyAPI
import LatchkeyClient

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A command-line client of the notes service: it signs in with LatchkeyClient (the tokens kept in
/// `~/.latchkey-notes.json`, mode 0600) and calls the service with the access token, refreshed as needed.
@main
struct NotesCLI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notes",
        abstract: "Keep notes in the notes service, signed in with Latchkey.",
        subcommands: [Register.self, Login.self, Add.self, List.self, Logout.self]
    )

    struct Servers: ParsableArguments {
        @Option(help: "The Latchkey server.") var latchkey = "http://127.0.0.1:8080"
        @Option(help: "The notes service.") var notes = "http://127.0.0.1:8081"
        @Option(help: "Where the tokens are kept.") var tokens = NSHomeDirectory() + "/.latchkey-notes.json"

        var client: LatchkeyClient {
            get throws {
                guard let server = URL(string: latchkey) else { throw ValidationError("--latchkey is not a URL.") }
                return LatchkeyClient(serverURL: server, store: FileTokenStore(url: URL(fileURLWithPath: tokens)))
            }
        }

        func notesURL() throws -> URL {
            guard let url = URL(string: notes + "/notes") else { throw ValidationError("--notes is not a URL.") }
            return url
        }
    }

    /// The password, from standard input: never on the command line, where `ps` shows it.
    static func password() throws -> String {
        guard let line = readLine(strippingNewline: true), !line.isEmpty else { throw ValidationError("Give the password on standard input.") }
        return line
    }

    struct Register: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an account (password on standard input).")
        @OptionGroup var servers: Servers
        @Argument var email: String
        @Argument var name: String

        func run() async throws {
            let registered = try await servers.client.register(email: email, password: try NotesCLI.password(), name: name)
            print(registered.accessToken == nil ? "Registered; confirm the emailed link, then log in." : "Registered and signed in.")
        }
    }

    struct Login: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sign in (password on standard input, then, for an account with TOTP, a code on the next line)."
        )
        @OptionGroup var servers: Servers
        @Argument var email: String

        func run() async throws {
            var user = try await servers.client.login(email: email, password: try NotesCLI.password()).user
            if user == nil {
                guard let code = readLine(strippingNewline: true)?.trimmingCharacters(in: .whitespaces), !code.isEmpty else {
                    throw ValidationError("This account has a second factor: give a code (or a recovery code) on the next line.")
                }
                let isTOTP = code.count == 6 && code.allSatisfy(\.isNumber)
                user = try await isTOTP ? servers.client.verifyMFA(code: code) : servers.client.verifyMFA(recoveryCode: code)
            }
            print("Signed in as \(user?.name ?? "").")
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a note.")
        @OptionGroup var servers: Servers
        @Argument var text: String

        func run() async throws {
            var request = URLRequest(url: try servers.notesURL())
            request.httpMethod = "POST"
            request.httpBody = Data(text.utf8)
            let (_, response) = try await servers.client.authorizedRequest(request)
            guard response.statusCode == 200 else { throw ValidationError("The notes service answered \(response.statusCode).") }
            print("Added.")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List your notes.")
        @OptionGroup var servers: Servers

        func run() async throws {
            let (body, response) = try await servers.client.authorizedRequest(URLRequest(url: try servers.notesURL()))
            guard response.statusCode == 200 else { throw ValidationError("The notes service answered \(response.statusCode).") }
            struct Note: Decodable { var text: String }
            for note in try JSONDecoder().decode([Note].self, from: body) { print("- \(note.text)") }
        }
    }

    struct Logout: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Sign out.")
        @OptionGroup var servers: Servers

        func run() async throws {
            try await servers.client.logout()
            print("Signed out.")
        }
    }
}
