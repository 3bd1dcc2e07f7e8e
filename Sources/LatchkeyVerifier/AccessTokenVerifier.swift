import AsyncHTTPClient
import Foundation
import JWTKit
import LatchkeyAPI
import Synchronization

/// Verifies Latchkey access tokens offline, in another service, with the public keys of the server's JWKS.
///
/// It applies the server's rules (`AccessTokenRules`): the algorithm pinned to the configured ones (never `none`), a
/// `kid` that names a published key (never a default key), integer times, `iss`, `aud`, `exp` within the leeway.
/// It does not see revocations: a token stays good until its `exp`, so keep access tokens short-lived (15 minutes by
/// default).
///
/// The JWKS is kept in memory for its `Cache-Control: max-age` (bounded to 10 s – 1 h) and fetched again in the
/// background by the first request after 80% of that time. A token whose `kid` is unknown makes it fetch once, at most
/// every `unknownKidRefetchInterval` (the server may have rotated a key in): a flood of made-up `kid`s costs one fetch
/// per interval, and requests arriving during a fetch wait for it. While the server cannot be reached, the last key set
/// it gave keeps serving, and fetches back off to one a minute.
///
/// ```swift
/// let verifier = AccessTokenVerifier(configuration: .init(serverURL: URL(string: "https://auth.example.com")!))
/// let claims = try await verifier.verify(bearerToken)   // claims.sub is the user id, claims.role its role
/// ```
public final class AccessTokenVerifier: Sendable {
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
    private let parser = DefaultJWTParser()
    private let state = Mutex(State())
    /// Tokens whose signature checked out, with the `kid` that signed them: a hit counts while that key is published.
    private let verified = VerifiedTokenCache<(claims: AccessTokenClaims, kid: String)>()

    /// The key set and the fetches under way.
    private struct State {
        var keys: KeySet?
        /// The fetch under way, which callers needing keys wait for.
        var fetch: Task<KeySet?, Never>?
        /// No fetch starts before then: after a failed one (backing off), or an unknown `kid`'s (the interval).
        var nextFetchAllowed: ContinuousClock.Instant?
        /// The pause after the last failed fetch; doubled by each failure, up to a minute.
        var backoff: Duration?
    }

    /// One JWKS as fetched.
    struct KeySet: Sendable {
        var keys: JWTKeyCollection
        /// Each published key's `alg`: a token's header must name its key's.
        var algorithms: [String: String]
        var fetchedAt: ContinuousClock.Instant
        var maxAge: Duration

        /// Time to fetch it again, in the background: 80% of its age has gone.
        func isStale(at now: ContinuousClock.Instant) -> Bool { now - fetchedAt >= maxAge * 0.8 }
    }

    /// `httpClient`: the client to fetch the JWKS with (`HTTPClient.shared` by default).
    public init(configuration: Configuration, httpClient: HTTPClient = .shared) {
        self.configuration = configuration
        self.httpClient = httpClient
    }

    /// The claims of a good token. Throws `AccessTokenError` (`.tokenExpired` or `.tokenInvalid`) for any other.
    public func verify(_ token: String, now: Date = Date()) async throws(AccessTokenError) -> AccessTokenClaims {
        if let hit = verified.get(token), let keys = currentKeys(), keys.algorithms[hit.kid] != nil {
            return try check(hit.claims, now: now)
        }
        let bytes = Array(token.utf8)
        guard AccessTokenRules.hasStrictSegments(token),
            let (header, _, signature) = try? parser.parse(bytes, as: Payload.self),
            !signature.isEmpty, let alg = header.alg, configuration.algorithms.contains(alg),
            let kid = header.kid, let keys = await keys(for: kid), keys.algorithms[kid] == alg
        else { throw .tokenInvalid }
        let claims: AccessTokenClaims
        do {
            claims = try await keys.keys.verify(bytes, as: Payload.self).claims
        } catch {
            throw .tokenInvalid
        }
        verified.put(token, (claims, kid))
        return try check(claims, now: now)
    }

    /// The contract's rules for the claims of a token whose signature checked out: `iat` and `nbf` may be ahead of this
    /// clock by the contract's 30 s, `exp` behind it by the configured leeway.
    private func check(_ claims: AccessTokenClaims, now: Date) throws(AccessTokenError) -> AccessTokenClaims {
        switch AccessTokenRules.check(
            claims,
            issuer: configuration.issuer,
            audience: configuration.audience,
            maxLifetime: configuration.maxTokenLifetime,
            expiryLeeway: min(max(configuration.leeway, 0), AccessTokenRules.maxLeeway),
            now: now
        ) {
        case .valid: return claims
        case .expired: throw .tokenExpired
        case .invalid: throw .tokenInvalid
        }
    }

    /// The key set in use, starting a background fetch when it is stale.
    private func currentKeys() -> KeySet? {
        let now = ContinuousClock.now
        return state.withLock { state in
            if let keys = state.keys, keys.isStale(at: now) { _ = startFetch(&state, now: now) }
            return state.keys
        }
    }

    /// The key set that knows `kid`, fetching the JWKS when there is none yet, or when `kid` is unknown (at most once
    /// per interval): callers arriving during a fetch wait for it. Nil when no key set has `kid`.
    private func keys(for kid: String) async -> KeySet? {
        let now = ContinuousClock.now
        let (current, wait): (KeySet?, Task<KeySet?, Never>?) = state.withLock { state in
            if let keys = state.keys, keys.isStale(at: now) { _ = startFetch(&state, now: now) }
            if let keys = state.keys, keys.algorithms[kid] != nil { return (keys, nil) }
            let fetch = startFetch(&state, now: now)
            if state.keys != nil, fetch != nil {
                // An unknown kid's fetch: the next one waits for the interval.
                state.nextFetchAllowed = max(state.nextFetchAllowed ?? now, now + configuration.unknownKidRefetchInterval)
            }
            return (state.keys, fetch)
        }
        guard let fetched = await wait?.value ?? current, fetched.algorithms[kid] != nil else { return nil }
        return fetched
    }

    /// The fetch under way, or a new one when one is allowed now. A failed fetch keeps the last good key set and makes
    /// the next wait, longer after each failure: an unreachable server gets a fetch a minute at most, whatever comes in.
    private func startFetch(_ state: inout State, now: ContinuousClock.Instant) -> Task<KeySet?, Never>? {
        if let fetch = state.fetch { return fetch }
        if let allowed = state.nextFetchAllowed, now < allowed { return nil }
        let fetch = Task<KeySet?, Never> {
            let fetched = try? await self.fetchKeySet()
            return self.state.withLock { state in
                state.fetch = nil
                if let fetched {
                    state.keys = fetched
                    state.backoff = nil
                } else {
                    let backoff = min((state.backoff ?? configuration.unknownKidRefetchInterval / 2) * 2, .seconds(60))
                    state.backoff = backoff
                    state.nextFetchAllowed = .now + backoff
                }
                return state.keys
            }
        }
        state.fetch = fetch
        return fetch
    }

    /// The JWKS, within 10 s in all. A set with no key is no answer: the last good one stays.
    private func fetchKeySet() async throws -> KeySet {
        try await withThrowingTaskGroup(of: KeySet.self) { group in
            group.addTask {
                let response = try await self.httpClient.execute(
                    HTTPClientRequest(url: self.configuration.jwksURL.absoluteString),
                    timeout: .seconds(5)
                )
                guard response.status == .ok else { throw JWKSUnavailable() }
                let json = String(buffer: try await response.body.collect(upTo: 1 << 20))
                let published = try JSONDecoder().decode(PublishedKeys.self, from: Data(json.utf8)).keys
                guard !published.isEmpty else { throw JWKSUnavailable() }
                let keys = try await JWTKeyCollection().add(jwksJSON: json)
                let algorithms = Dictionary(published.map { ($0.kid, $0.alg) }) { first, _ in first }
                let maxAge = Self.maxAge(response.headers["Cache-Control"].first).map { Duration.seconds(min(max($0, 10), 3600)) }
                return KeySet(keys: keys, algorithms: algorithms, fetchedAt: .now, maxAge: maxAge ?? self.configuration.defaultMaxAge)
            }
            group.addTask {
                try await Task.sleep(for: .seconds(10))
                throw JWKSUnavailable()
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }

    private struct JWKSUnavailable: Error {}

    /// `max-age` of a `Cache-Control` value, in seconds.
    static func maxAge(_ cacheControl: String?) -> Int? {
        cacheControl?.lowercased().split(separator: ",").lazy.map { $0.trimmingCharacters(in: .whitespaces) }
            .first { $0.hasPrefix("max-age=") }.flatMap { Int($0.dropFirst("max-age=".count)) }
    }

    /// The claims as JWTKit decodes them; `AccessTokenRules` checks them after the signature, so that an expired token
    /// and a bad one get different errors.
    private struct Payload: JWTPayload {
        var claims: AccessTokenClaims

        init(from decoder: any Decoder) throws {
            claims = try AccessTokenClaims(from: decoder)
        }

        func encode(to encoder: any Encoder) throws {
            try claims.encode(to: encoder)
        }

        func verify(using algorithm: some JWTAlgorithm) async throws {}
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
