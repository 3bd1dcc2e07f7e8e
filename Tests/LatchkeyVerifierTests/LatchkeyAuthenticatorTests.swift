import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LatchkeyAPI
import LatchkeyTestSupport
import LatchkeyVerifier
import Synchronization
import Testing

/// The middleware in a small service of its own, trusting a real `latchkey serve`.
@Suite struct LatchkeyAuthenticatorTests {
    struct ServiceContext: LatchkeyRequestContext {
        var coreContext: CoreRequestContextStorage
        var latchkeyClaims: AccessTokenClaims?

        init(source: ApplicationRequestContextSource) {
            coreContext = .init(source: source)
        }
    }

    @Test func protectsRoutesWithTheContractsAnswers() async throws {
        let server = try ServerProcess(AccessTokenVerifierTests.settings)
        defer { server.terminate() }
        try await server.waitUntilHealthy()
        let verifier = AccessTokenVerifierTests.verifier(server)
        let (token, userID) = try await AccessTokenVerifierTests.login(server)

        let router = Router(context: ServiceContext.self)
        router.group("notes").add(middleware: LatchkeyAuthenticator(verifier: verifier)).get { _, context in try context.claims().sub }
        // A route left without the authenticator by mistake: claims() refuses.
        router.get("unguarded") { _, context in try context.claims().sub }
        router.group("admin").add(middleware: LatchkeyAuthenticator(verifier: verifier, requiredRole: "admin")).get { _, _ in "secret" }
        router.group("payments").add(middleware: LatchkeyAuthenticator(verifier: verifier, requireMFA: true)).get { _, _ in "paid" }
        try await Application(router: router).test(.router) { client in
            try await client.execute(uri: "/notes", method: .get, headers: [.authorization: "Bearer \(token)"]) { response in
                #expect(response.status == .ok && String(buffer: response.body) == userID)
            }
            try await client.execute(uri: "/notes", method: .get) { response in
                let error = try JSONDecoder().decode(ErrorResponse.self, from: Data(buffer: response.body))
                #expect(response.status == .unauthorized && error.error == .tokenMissing && !error.success)
                #expect(response.headers[.wwwAuthenticate] == #"Bearer realm="latchkey""#)
            }
            try await client.execute(uri: "/unguarded", method: .get, headers: [.authorization: "Bearer \(token)"]) { response in
                let error = try JSONDecoder().decode(ErrorResponse.self, from: Data(buffer: response.body))
                #expect(response.status == .unauthorized && error.error == .tokenMissing)
            }
            try await client.execute(uri: "/notes", method: .get, headers: [.authorization: "Bearer \(token)x"]) { response in
                let error = try JSONDecoder().decode(ErrorResponse.self, from: Data(buffer: response.body))
                #expect(response.status == .unauthorized && error.error == .tokenInvalid)
                #expect(response.headers[.wwwAuthenticate]?.contains(#"error="invalid_token""#) == true)
            }
            try await client.execute(uri: "/admin", method: .get, headers: [.authorization: "Bearer \(token)"]) { response in
                let error = try JSONDecoder().decode(ErrorResponse.self, from: Data(buffer: response.body))
                #expect(response.status == .forbidden && error.error == .forbidden)
                #expect(response.headers[.wwwAuthenticate]?.contains(#"error="insufficient_scope""#) == true)
            }
            // A password sign-in (amr ["pwd"]) is not enough where two factors are required.
            try await client.execute(uri: "/payments", method: .get, headers: [.authorization: "Bearer \(token)"]) { response in
                let error = try JSONDecoder().decode(ErrorResponse.self, from: Data(buffer: response.body))
                #expect(response.status == .forbidden && error.error == .mfaRequired)
                #expect(response.headers[.wwwAuthenticate] == #"Bearer realm="latchkey", error="insufficient_user_authentication""#)
            }
        }
    }

    /// A JWKS endpoint that fails (here: 503 to everything) gets a handful of requests, however many tokens come, and
    /// the tokens are refused, none waiting long.
    @Test func anUnreachableJWKSGetsAFewFetchesNotAFlood() async throws {
        let fetches = Mutex(0)
        let router = Router()
        router.get(".well-known/jwks.json") { _, _ -> Response in
            fetches.withLock { $0 += 1 }
            return Response(status: .serviceUnavailable)
        }
        try await Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0))).test(.live) { client in
            let server = try #require(client.port)
            let configuration = AccessTokenVerifier.Configuration(
                serverURL: URL(string: "http://127.0.0.1:\(server)")!,
                unknownKidRefetchInterval: .milliseconds(200)
            )
            let verifier = AccessTokenVerifier(configuration: configuration)
            let started = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<500 {
                    let token = Token.make(["alg": "EdDSA", "kid": UUID().uuidString], Data("{}".utf8), signature: "c2ln")
                    group.addTask { await #expect(throws: AccessTokenError.tokenInvalid) { try await verifier.verify(token) } }
                    if index % 50 == 49 { try await group.waitForAll() }
                }
            }
            // Unloaded, well under a second; 5 s was once missed by 6 ms under the parallel suite.
            #expect(ContinuousClock.now - started < .seconds(10))
            #expect(fetches.withLock { $0 } <= 5, "\(fetches.withLock { $0 }) JWKS requests")
        }
    }
}
