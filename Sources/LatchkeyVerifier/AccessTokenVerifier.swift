import AsyncHTTPClient
import Foundation
import JWTKit
import LatchkeyAPI
import LatchkeyKeyRing
import ServiceLifecycle

/// Verifies Latchkey access tokens offline, in another service, with the public keys of the server's JWKS.
///
/// It applies the server's rules, with the server's own key ring (`AccessTokenKeyRing`): the algorithm pinned to the
/// configured ones (never `none`), a `kid` that names a published key (never a default key), integer times, `iss`,
/// `aud`, `exp` within the leeway. It does not see revocations: a token stays good until its `exp`, so keep access
/// tokens short-lived (15 minutes by default).
///
/// The JWKS is kept for its `Cache-Control: max-age` (bounded to 10 s – 1 h). Run the verifier as a `Service` (in your
/// application's services, or a `ServiceGroup`): it fetches the JWKS again after 80% of that time, and backs off to
/// one fetch a minute while the server cannot be reached, the last key set it gave serving meanwhile. A verifier that
/// is not run fetches on the request that finds the key set expired. A token whose `kid` is unknown makes it fetch
/// once, at most every `unknownKidRefetchInterval` (the server may have rotated a key in): a flood of made-up `kid`s
/// costs one fetch per interval, and requests arriving during a fetch wait for it.
///
/// ```swift
/// let verifier = AccessTokenVerifier(configuration: .init(serverURL: URL(string: "https://auth.example.com")!))
/// let app = Application(router: router, services: [verifier])
/// let claims = try await verifier.verify(bearerToken)   // claims.sub is the user id, claims.role its role
/// ```
public final class AccessTokenVerifier: Service, Sendable {
    /// Where the keys come from and what a token must say.
    public struct Configuration: Sendable {
        /// The server's JWKS: `{server}/.well-known/jwks.json`.
        public var jwksURL: URL
        /// `LATCHKEY_JWT_ISSUER` and `LATCHKEY_JWT_AUDIENCE` of the server.
        public var issuer: String
        public var audience: String
        /// The `alg`s accepted: the server's `LATCHKEY_JWT_ALGORITHM` (EdDSA, ES256 or RS256). HS256 needs the shared
        /// secret and is not for other services.
        public var algorithms: Set<String>
        /// Seconds a token is still accepted past its `exp`; at most 30. (`iat` may be ahead of this clock by 30 s, as
        /// the server allows.)
        public var leeway: Int
        /// The longest lifetime (`exp - iat`) accepted: the server's `LATCHKEY_ACCESS_TOKEN_TTL` or more.
        public var maxTokenLifetime: Int
        /// How often at most an unknown `kid` makes the verifier fetch the JWKS.
        public var unknownKidRefetchInterval: Duration
        /// How long the JWKS is kept when the server says nothing (`Cache-Control: max-age`).
        public var defaultMaxAge: Duration

        public init(
            serverURL: URL,
            issuer: String = "latchkey",
            audience: String = "latchkey",
            algorithms: Set<String> = ["EdDSA"],
            leeway: Int = 5,
            maxTokenLifetime: Int = 15 * 60,
            unknownKidRefetchInterval: Duration = .seconds(5),
            defaultMaxAge: Duration = .seconds(300)
        ) {
            self.jwksURL = serverURL.appending(path: ".well-known/jwks.json")
            self.issuer = issuer
            self.audience = audience
            self.algorithms = algorithms
            self.leeway = leeway
            self.maxTokenLifetime = maxTokenLifetime
            self.unknownKidRefetchInterval = unknownKidRefetchInterval
            self.defaultMaxAge = defaultMaxAge
        }
    }

    public let configuration: Configuration
    private let httpClient: HTTPClient
    private let ring: AccessTokenKeyRing

    /// `httpClient`: the client to fetch the JWKS with (`HTTPClient.shared` by default).
    public init(configuration: Configuration, httpClient: HTTPClient = .shared) {
        self.configuration = configuration
        self.httpClient = httpClient
        self.ring = AccessTokenKeyRing(
            rules: .init(
                algorithms: configuration.algorithms,
                issuer: configuration.issuer,
                audience: configuration.audience,
                maxLifetime: configuration.maxTokenLifetime,
                expiryLeeway: configuration.leeway
            ),
            unknownKidInterval: configuration.unknownKidRefetchInterval
        )
    }

    /// The claims of a good token. Throws `AccessTokenError` (`.tokenExpired` or `.tokenInvalid`) for any other.
    public func verify(_ token: String, now: Date = Date()) async throws(AccessTokenError) -> AccessTokenClaims {
        do {
            return try await ring.verify(token, now: now) { try await self.fetch() }.claims
        } catch .expired {
            throw .tokenExpired
        } catch {
            // An unknown kid with the JWKS out of reach is refused: this service cannot tell a new key from a forged one.
            throw .tokenInvalid
        }
    }

    /// Fetches the JWKS again at 80% of its `max-age`, or after a failure at a wait that doubles from
    /// `unknownKidRefetchInterval` up to a minute, until the service group shuts down.
    public func run() async throws {
        var backoff: Duration?
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            do {
                try await fetch()
                backoff = nil
            } catch {
                backoff = min((backoff ?? configuration.unknownKidRefetchInterval / 2) * 2, .seconds(60))
            }
            let next = backoff ?? ring.keys.flatMap { $0.expiresAt.map { ($0 - .now) * 0.8 } } ?? configuration.defaultMaxAge
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: max(next, .seconds(1))) }
        }
    }

    /// Fetches the JWKS, within 10 s in all, and puts its keys in the ring. A set with no key is no answer: the last
    /// good one stays.
    private func fetch() async throws {
        let started = ContinuousClock.now
        let keys = try await withThrowingTaskGroup(of: AccessTokenKeyRing.Keys.self) { group in
            group.addTask {
                let response = try await self.httpClient.execute(
                    HTTPClientRequest(url: self.configuration.jwksURL.absoluteString),
                    timeout: .seconds(5)
                )
                guard response.status == .ok else { throw JWKSUnavailable() }
                let json = String(buffer: try await response.body.collect(upTo: 1 << 20))
                let published = try JSONDecoder().decode(PublishedKeys.self, from: Data(json.utf8)).keys
                guard !published.isEmpty else { throw JWKSUnavailable() }
                let collection = try await JWTKeyCollection().add(jwksJSON: json)
                let algorithms = Dictionary(published.map { ($0.kid, $0.alg) }) { first, _ in first }
                let maxAge = Self.maxAge(response.headers["Cache-Control"].first).map { Duration.seconds(min(max($0, 10), 3600)) }
                return .init(collection: collection, algorithms: algorithms, expiresAt: started + (maxAge ?? self.configuration.defaultMaxAge))
            }
            group.addTask {
                try await Task.sleep(for: .seconds(10))
                throw JWKSUnavailable()
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
        ring.replace(with: keys, readSince: started)
    }

    private struct JWKSUnavailable: Error {}

    /// `max-age` of a `Cache-Control` value, in seconds.
    static func maxAge(_ cacheControl: String?) -> Int? {
        cacheControl?.lowercased().split(separator: ",").lazy.map { $0.trimmingCharacters(in: .whitespaces) }
            .first { $0.hasPrefix("max-age=") }.flatMap { Int($0.dropFirst("max-age=".count)) }
    }

    /// What the verifier reads of each key besides its material. Latchkey's keys always have both (JWTKit refuses a
    /// set with a key that has no `kid`).
    private struct PublishedKeys: Decodable {
        struct Key: Decodable {
            var kid: String
            var alg: String
        }
        var keys: [Key]
    }
}

/// Why a token was refused, as the contract's error codes say it.
public enum AccessTokenError: Error, Sendable, Equatable {
    /// Past its `exp` (and the leeway).
    case tokenExpired
    /// Anything else: signature, `alg`, `kid`, `iss`, `aud`, shape.
    case tokenInvalid

    /// The contract's code.
    public var code: ErrorCode {
        switch self {
        case .tokenExpired: .tokenExpired
        case .tokenInvalid: .tokenInvalid
        }
    }
}
