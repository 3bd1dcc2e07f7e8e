import Foundation
import JWTKit
import LatchkeyAPI
import Synchronization

/// The keys that access tokens are checked with, by `kid`, and the check itself: one type for the server (its keys come
/// from its database) and for LatchkeyVerifier (its keys come from the server's JWKS), so that both refuse the same
/// tokens for the same reasons.
///
/// - JWTKit takes its default key for a missing or unknown `kid`, and any `alg` that a key can check: the ring pins
///   both before JWTKit sees the token.
/// - A token checked before skips the signature math (`VerifiedTokenCache`), but only while the key that signed it is
///   in the ring: once a key is gone, its tokens are refused.
/// - A `kid` the ring does not know (or keys past their `expiresAt`) makes it reload, through the caller's `reload`, at
///   most once per `unknownKidInterval`. Requests arriving during a reload wait for it. After a failed reload the
///   next may start only after a wait that doubles with each failure, up to a minute: a flood of made-up `kid`s, or an
///   unreachable key source, costs a handful of reads.
public final class AccessTokenKeyRing: Sendable {
    /// One set of keys, as read from where they live.
    public struct Keys: Sendable {
        /// The keys, by `kid`, able to check signatures (the server's can also sign).
        public var collection: JWTKeyCollection
        /// Each key's `alg`, by `kid`: a token's header must name its key's.
        public var algorithms: [String: String]
        /// When each key starts signing (the server's keys; empty for a JWKS).
        public var activations: [String: Date]
        /// The public keys to publish (the server's JWKS; nil for a set read from one).
        public var published: JWKS?
        /// When the set should be read again before it is used (a JWKS's `max-age`); nil: the owner reloads it.
        public var expiresAt: ContinuousClock.Instant?

        public init(
            collection: JWTKeyCollection,
            algorithms: [String: String],
            activations: [String: Date] = [:],
            published: JWKS? = nil,
            expiresAt: ContinuousClock.Instant? = nil
        ) {
            self.collection = collection
            self.algorithms = algorithms
            self.activations = activations
            self.published = published
            self.expiresAt = expiresAt
        }
    }

    /// What a token's claims must say, besides a good signature (`AccessTokenRules`).
    public struct Rules: Sendable {
        /// The `alg`s accepted (never `none`).
        public var algorithms: Set<String>
        public var issuer: String
        public var audience: String
        /// The longest lifetime (`exp - iat`) accepted, in seconds.
        public var maxLifetime: Int
        /// Seconds a token is still accepted past its `exp`.
        public var expiryLeeway: Int

        public init(algorithms: Set<String>, issuer: String, audience: String, maxLifetime: Int, expiryLeeway: Int = 0) {
            self.algorithms = algorithms
            self.issuer = issuer
            self.audience = audience
            self.maxLifetime = maxLifetime
            self.expiryLeeway = min(max(expiryLeeway, 0), AccessTokenRules.maxLeeway)
        }
    }

    /// Why a token was refused.
    public enum Refusal: Error, Sendable, Equatable {
        /// Past its `exp` (and the leeway).
        case expired
        /// Anything else: shape, signature, `alg`, `kid`, `iss`, `aud`, times.
        case invalid
        /// Its `kid` is unknown and the keys could not be read again: it may be a new key's.
        case keysUnavailable
    }

    public let rules: Rules
    public let unknownKidInterval: Duration
    private let state = Mutex(State())
    private let parser = DefaultJWTParser()
    private let verified = VerifiedTokenCache<(claims: AccessTokenClaims, kid: String)>()

    private struct State {
        var keys: Keys?
        /// When the keys in the ring were read (their read's start): a slower, older read never replaces them.
        var readSince: ContinuousClock.Instant?
        /// The reload under way, or the last one: callers that may not start another wait for it.
        var task: Task<Bool, Never>?
        var reloading = false
        /// No reload starts before then: the interval after the last one's start, or the wait after a failed one's end.
        var nextReload: ContinuousClock.Instant?
        /// The wait after the last failed reload; doubled by each failure, up to a minute. Nil after a success.
        var backoff: Duration?
    }

    public init(rules: Rules, unknownKidInterval: Duration = .seconds(5)) {
        self.rules = rules
        self.unknownKidInterval = unknownKidInterval
    }

    /// The keys in use; nil before the first read.
    public var keys: Keys? { state.withLock { $0.keys } }

    /// Puts in keys that a read started at `readSince` found, unless a read started later has put in its own already.
    /// Tokens of a key that is not in `keys` are refused from now on.
    public func replace(with keys: Keys, readSince: ContinuousClock.Instant) {
        state.withLock { state in
            guard state.readSince.map({ readSince > $0 }) ?? true else { return }
            state.keys = keys
            state.readSince = readSince
            // A scheduled read that succeeds ends the wait that failed reloads set.
            if !state.reloading, state.backoff != nil {
                state.backoff = nil
                state.nextReload = nil
            }
        }
    }

    /// The claims of a good token and the `kid` of the key that signed it. `reload` reads the keys again and puts them
    /// in with `replace(with:readSince:)`; the ring calls it for an unknown `kid` (see the type's description).
    public func verify(
        _ token: String,
        now: Date,
        reload: @escaping @Sendable () async throws -> Void
    ) async throws(Refusal) -> (claims: AccessTokenClaims, kid: String) {
        if let hit = verified.get(token), let keys = usableKeys(), keys.algorithms[hit.kid] != nil {
            return (try check(hit.claims, now: now), hit.kid)
        }
        let bytes = Array(token.utf8)
        guard AccessTokenRules.hasStrictSegments(token),
            let (header, _, signature) = try? parser.parse(bytes, as: AccessTokenClaims.self),
            !signature.isEmpty, let alg = header.alg, rules.algorithms.contains(alg), let kid = header.kid
        else { throw .invalid }
        let keys = try await keys(for: kid, reload: reload)
        guard keys.algorithms[kid] == alg else { throw .invalid }
        let claims: AccessTokenClaims
        do {
            claims = try await keys.collection.verify(bytes, as: AccessTokenClaims.self)
        } catch {
            throw .invalid
        }
        verified.put(token, (claims, kid))
        return (try check(claims, now: now), kid)
    }

    /// `AccessTokenRules` for the claims of a token whose signature checked out.
    private func check(_ claims: AccessTokenClaims, now: Date) throws(Refusal) -> AccessTokenClaims {
        switch AccessTokenRules.check(
            claims,
            issuer: rules.issuer,
            audience: rules.audience,
            maxLifetime: rules.maxLifetime,
            expiryLeeway: rules.expiryLeeway,
            now: now
        ) {
        case .valid: return claims
        case .expired: throw .expired
        case .invalid: throw .invalid
        }
    }

    /// The keys, when they are not past their `expiresAt`.
    private func usableKeys() -> Keys? {
        state.withLock { state in
            guard let keys = state.keys, keys.expiresAt.map({ ContinuousClock.now < $0 }) ?? true else { return nil }
            return keys
        }
    }

    /// Keys that know `kid`, reloading first when they do not (or are past their `expiresAt`) and a reload may start
    /// now, or one is under way.
    private func keys(for kid: String, reload: @escaping @Sendable () async throws -> Void) async throws(Refusal) -> Keys {
        if let keys = usableKeys(), keys.algorithms[kid] != nil { return keys }
        let now = ContinuousClock.now
        let (stale, task): (Keys?, Task<Bool, Never>?) = state.withLock { state in
            let task = startReload(&state, now: now, reload: reload)
            // A known kid of keys past their `expiresAt` is served at once, while they are read again: the last good
            // set beats none, and a slow or unreachable key source must not hold up tokens it already vouched for.
            if let keys = state.keys, keys.algorithms[kid] != nil { return (keys, nil) }
            return (nil, task)
        }
        if let stale { return stale }
        let reloaded = await task?.value ?? false
        guard let keys = state.withLock({ $0.keys }), keys.algorithms[kid] != nil else {
            throw reloaded ? .invalid : .keysUnavailable
        }
        return keys
    }

    /// The reload under way, or a new one when one may start now, or else the last one.
    private func startReload(
        _ state: inout State,
        now: ContinuousClock.Instant,
        reload: @escaping @Sendable () async throws -> Void
    ) -> Task<Bool, Never>? {
        if state.reloading || state.nextReload.map({ now < $0 }) == true { return state.task }
        let task = Task<Bool, Never> {
            let succeeded = (try? await reload()) != nil
            self.state.withLock { state in
                state.reloading = false
                if succeeded {
                    state.backoff = nil
                } else {
                    // Counted from the end of the failed reload: a read that hangs until its timeout is not retried at once.
                    let backoff = min((state.backoff ?? self.unknownKidInterval / 2) * 2, .seconds(60))
                    state.backoff = backoff
                    state.nextReload = .now + backoff
                }
            }
            return succeeded
        }
        state.task = task
        state.reloading = true
        state.nextReload = now + unknownKidInterval
        return task
    }
}

extension AccessTokenClaims: JWTPayload {
    /// The ring checks the claims after the signature (`AccessTokenRules`), so that an expired token and a bad one get
    /// different refusals.
    public func verify(using algorithm: some JWTAlgorithm) async throws {}
}
