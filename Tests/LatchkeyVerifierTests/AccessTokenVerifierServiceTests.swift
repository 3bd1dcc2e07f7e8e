import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LatchkeyVerifier
import Synchronization
import Testing

/// `AccessTokenVerifier` run as a `Service`: it keeps its copy of the JWKS fresh without a request asking.
@Suite struct AccessTokenVerifierServiceTests {
    @Test func runAsAServiceItFetchesTheJWKSBeforeItRunsOut() async throws {
        let key = Curve25519.Signing.PrivateKey().publicKey.rawRepresentation.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        let jwks = #"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"\#(key)","kid":"k1","alg":"EdDSA","use":"sig"}]}"#
        let fetches = Mutex(0)
        let router = Router()
        router.get(".well-known/jwks.json") { _, _ -> Response in
            fetches.withLock { $0 += 1 }
            let headers: HTTPFields = [.contentType: "application/json", .cacheControl: "public, max-age=10"]
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: jwks)))
        }
        try await Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0))).test(.live) { client in
            let port = try #require(client.port)
            let verifier = AccessTokenVerifier(configuration: .init(serverURL: URL(string: "http://127.0.0.1:\(port)")!))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await verifier.run() }
                try await Task.sleep(for: .seconds(2))
                #expect(fetches.withLock { $0 } == 1, "one fetch at start")
                // 80% of the 10 s max-age.
                try await Task.sleep(for: .seconds(7))
                #expect(fetches.withLock { $0 } == 2, "a second fetch before the set runs out")
                group.cancelAll()
            }
        }
    }
}
