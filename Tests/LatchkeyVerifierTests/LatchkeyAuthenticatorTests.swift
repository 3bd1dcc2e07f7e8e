import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LatchkeyAPI
import LatchkeyTestSupport
import LatchkeyVerifier
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
        router.group("notes").add(middleware: LatchkeyAuthenticator(verifier: verifier)).get { _, context in
            context.latchkeyClaims?.sub ?? "nobody"
        }
        router.group("admin").add(middleware: LatchkeyAuthenticator(verifier: verifier, requiredRole: "admin")).get { _, _ in "secret" }
        try await Application(router: router).test(.router) { client in
            try await client.execute(uri: "/notes", method: .get, headers: [.authorization: "Bearer \(token)"]) { response in
                #expect(response.status == .ok && String(buffer: response.body) == userID)
            }
            try await client.execute(uri: "/notes", method: .get) { response in
                let error = try JSONDecoder().decode(ErrorResponse.self, from: Data(buffer: response.body))
                #expect(response.status == .unauthorized && error.error == .tokenMissing && !error.success)
                #expect(response.headers[.wwwAuthenticate] == #"Bearer realm="latchkey""#)
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
        }
    }
}
