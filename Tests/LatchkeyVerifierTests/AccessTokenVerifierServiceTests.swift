import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JWTKit
import LatchkeyAPI
import LatchkeyKeyRing
import LatchkeyVerifier
import Synchronization
import Testing

/// `AccessTokenVerifier` run as a `Service`: it keeps its copy of the JWKS fresh without a request asking.
@Suite struct AccessTokenVerifierServiceTests {
    @Test func runAsAServiceItFetchesTheJWKSBeforeItRunsOut() async throws {
        let key = Curve25519.Signing.PrivateKey().publicKey.rawRepresentation.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        let jwks = #"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"\#(key)","kid":"k1","alg":"EdDSA","use":"sig"}]}"#
        let fetches = Mutex<[ContinuousClock.Instant]>([])
        let router = Router()
        router.get(".well-known/jwks.json") { _, _ -> Response in
            fetches.withLock { $0.append(.now) }
            let headers: HTTPFields = [.contentType: "application/json", .cacheControl: "public, max-age=10"]
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: jwks)))
        }
        try await Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0))).test(.live) { client in
            let port = try #require(client.port)
            let verifier = AccessTokenVerifier(configuration: .init(serverURL: URL(string: "http://127.0.0.1:\(port)")!))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await verifier.run() }
                let deadline = ContinuousClock.now + .seconds(30)
                while fetches.withLock({ $0.count }) < 2, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
                group.cancelAll()
            }
            let times = fetches.withLock { $0 }
            #expect(times.count == 2, "one fetch at start, a second before the set runs out")
            // At 80% of the 10 s max-age: not sooner (a sleep is never shorter), and well before a minute.
            if times.count == 2 { #expect(times[1] - times[0] >= .seconds(7.5) && times[1] - times[0] < .seconds(20)) }
        }
    }

    /// Past its `max-age`, with the JWKS host hanging, a token of a known key is still answered at once from the last
    /// key set; the fetch runs meanwhile and times out on its own.
    @Test func anExpiredKeySetServesKnownKidsWhileTheHostHangs() async throws {
        let key = try EdDSA.PrivateKey()
        let x = key.publicKey.rawRepresentation.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        let jwks = #"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"\#(x)","kid":"k1","alg":"EdDSA","use":"sig"}]}"#
        let hanging = Mutex(false)
        let router = Router()
        router.get(".well-known/jwks.json") { _, _ -> Response in
            if hanging.withLock({ $0 }) { try await Task.sleep(for: .seconds(6)) }  // past the verifier's 5 s timeout
            let headers: HTTPFields = [.contentType: "application/json", .cacheControl: "max-age=10"]
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: jwks)))
        }
        let signer = JWTKeyCollection()
        await signer.add(eddsa: key, kid: "k1")
        let now = Int64(Date().timeIntervalSince1970)
        let claims = AccessTokenClaims(iss: "latchkey", aud: "latchkey", sub: "u", sid: "s", role: "user", iat: now, exp: now + 60, jti: "j")
        let token = try await signer.sign(claims, kid: "k1")
        try await Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0))).test(.live) { client in
            let port = try #require(client.port)
            let verifier = AccessTokenVerifier(configuration: .init(serverURL: URL(string: "http://127.0.0.1:\(port)")!, maxTokenLifetime: 60))
            #expect(try await verifier.verify(token).sub == "u")
            hanging.withLock { $0 = true }
            try await Task.sleep(for: .seconds(10.5))
            let started = ContinuousClock.now
            #expect(try await verifier.verify(token).sub == "u")
            #expect(ContinuousClock.now - started < .seconds(2), "waited for the hanging fetch")
        }
    }
}
