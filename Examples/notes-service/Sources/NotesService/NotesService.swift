import Configuration
import Foundation
import Hummingbird
import LatchkeyAPI
import LatchkeyVerifier
import Synchronization

/// A resource server that trusts Latchkey's access tokens: each user's notes, in memory. `GET /ping` is open, for
/// comparison (`scripts/bench`); everything under `/notes` needs a good access token.
///
/// Reads `LATCHKEY_URL` (default `http://127.0.0.1:8080`), `NOTES_HOST` and `NOTES_PORT` (default `127.0.0.1:8081`).
@main
struct NotesService {
    struct Context: LatchkeyRequestContext {
        var coreContext: CoreRequestContextStorage
        var latchkeyClaims: AccessTokenClaims?

        init(source: ApplicationRequestContextSource) {
            coreContext = .init(source: source)
        }
    }

    struct Note: ResponseCodable {
        var text: String
        var createdAt: Date
    }

    static func main() async throws {
        let config = ConfigReader(provider: EnvironmentVariablesProvider())
        let latchkey = URL(string: config.string(forKey: "latchkey.url", default: "http://127.0.0.1:8080"))!
        let verifier = AccessTokenVerifier(configuration: .init(serverURL: latchkey))
        let notes = Mutex<[String: [Note]]>([:])

        let router = Router(context: Context.self)
        router.get("ping") { _, _ in "pong" }
        let protected = router.group("notes").add(middleware: LatchkeyAuthenticator(verifier: verifier))
        protected.get("ping") { _, _ in "pong" }
        protected.get { _, context in
            let userID = try context.claims().sub
            return notes.withLock { $0[userID] ?? [] }
        }
        protected.post { request, context -> Note in
            let text = String(buffer: try await request.body.collect(upTo: 4096)).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !text.isEmpty else { throw HTTPError(.badRequest, message: "A note needs some text") }
            let note = Note(text: text, createdAt: Date())
            let userID = try context.claims().sub
            notes.withLock { $0[userID, default: []].append(note) }
            return note
        }
        let app = Application(
            router: router,
            configuration: .init(
                address: .hostname(config.string(forKey: "notes.host", default: "127.0.0.1"), port: config.int(forKey: "notes.port", default: 8081)),
                serverName: "notes-service"
            ),
            // The verifier keeps its copy of Latchkey's JWKS fresh while the app runs.
            services: [verifier]
        )
        try await app.runService()
    }
}
