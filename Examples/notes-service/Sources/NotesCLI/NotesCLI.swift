import ArgumentParser
import AsyncHTTPClient
import Foundation
import LatchkeyAPI
import LatchkeyClient
import NIOCore

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
            LatchkeyClient(serverURL: URL(string: latchkey)!, store: FileTokenStore(url: URL(fileURLWithPath: tokens)))
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
        static let configuration = CommandConfiguration(abstract: "Sign in (password on standard input).")
        @OptionGroup var servers: Servers
        @Argument var email: String

        func run() async throws {
            let user = try await servers.client.login(email: email, password: try NotesCLI.password())
            print("Signed in as \(user.name).")
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a note.")
        @OptionGroup var servers: Servers
        @Argument var text: String

        func run() async throws {
            var request = HTTPClientRequest(url: servers.notes + "/notes")
            request.method = .POST
            request.body = .bytes(ByteBuffer(string: text))
            let response = try await servers.client.authorizedRequest(request)
            guard response.status == .ok else { throw ValidationError("The notes service answered \(response.status.code).") }
            print("Added.")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List your notes.")
        @OptionGroup var servers: Servers

        func run() async throws {
            let response = try await servers.client.authorizedRequest(HTTPClientRequest(url: servers.notes + "/notes"))
            let body = try await response.body.collect(upTo: 1 << 20)
            guard response.status == .ok else { throw ValidationError("The notes service answered \(response.status.code).") }
            struct Note: Decodable { var text: String }
            for note in try JSONDecoder().decode([Note].self, from: Data(buffer: body)) { print("- \(note.text)") }
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
