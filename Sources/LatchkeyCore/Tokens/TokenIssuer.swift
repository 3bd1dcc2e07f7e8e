import Crypto
import Foundation
import JWTKit
import LatchkeyAPI
import Synchronization

extension AccessTokenClaims: JWTPayload {
    /// Claims are checked by `TokenIssuer.verify` after the signature, with the configured issuer and
    /// audience and our own clock, so that expiry and invalidity map to different error codes.
    public func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// Signs and verifies access tokens with the configured algorithm and publishes the JWKS.
///
/// JWTKit picks the default key when a token's `kid` is missing or unknown, and accepts any `alg` a key
/// can check, so both are pinned here before JWTKit sees the token.
///
/// Asymmetric keys come from the database and change while the server runs (`latchkey keys rotate|retire`): `reload`
/// reads them again (every `LATCHKEY_KEY_RELOAD_INTERVAL`, and once for a token whose `kid` is unknown, at most every
/// `unknownKidReloadInterval`). The signing key is the newest one whose activation has come.
public final class TokenIssuer: Sendable {
    public let configuration: TokenConfiguration
    private let source: Mutex<KeySource?>
    private let ring: Mutex<KeyRing>
    /// The last reload an unknown kid started, and when: later unknown kids within the interval wait for it.
    private let unknownKidReload = Mutex<(startedAt: ContinuousClock.Instant, task: Task<Bool, Never>)?>(nil)
    private let parser = DefaultJWTParser()
    private let cache = VerifiedTokenCache<VerifiedAccessToken>()
    /// A flood of made-up `kid`s costs at most one database read per interval.
    public static let unknownKidReloadInterval = Duration.seconds(5)

    /// The keys in use: JWTKit's collection, their activation times and the public JWKS; `generation` numbers the
    /// reload that read them, so a slower, older read never replaces a newer one.
    private struct KeyRing: Sendable {
        var keys: JWTKeyCollection
        var activations: [String: Date]
        var jwks: JWKS
        var generation: UInt64 = 0
    }
    private let reloadsStarted = Mutex<UInt64>(0)

    /// Where asymmetric keys come from.
    private struct KeySource: Sendable {
        var store: any SigningKeyStore
        var sealer: SigningKeySealer
    }

    /// Loads the signing keys of the configured algorithm from `store`, generating and storing one if there is none.
    /// Private keys rest sealed under the KEK; keys stored in the clear by an earlier version are sealed now.
    public static func load(
        configuration: TokenConfiguration,
        store: any SigningKeyStore,
        sealer: SigningKeySealer,
        now: Date = Date()
    ) async throws -> TokenIssuer {
        if configuration.algorithm == .hs256 {
            guard let secret = configuration.hmacSecret else { throw AuthError(.internalError, "HS256 needs a secret") }
            // The kid names the secret without revealing it, so a changed secret gets a new kid.
            let kid = Base64URL.encode(Data(SHA256.hash(data: Data(secret.utf8))).prefix(12))
            let keys = JWTKeyCollection()
            await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256, kid: JWKIdentifier(string: kid))
            return TokenIssuer(
                configuration: configuration,
                source: nil,
                ring: KeyRing(keys: keys, activations: [kid: .distantPast], jwks: JWKS(keys: []))
            )
        }
        let algorithm = configuration.algorithm
        let source = KeySource(store: store, sealer: sealer)
        _ = try await store.signingKeys(algorithm: algorithm) {
            let key = try sealer.seal(SigningKey.generate(algorithm, now: now))
            return (key, SigningKeyService.rotatedIn(key, by: .serverStart))
        }
        return TokenIssuer(configuration: configuration, source: source, ring: try await Self.ring(from: source, algorithm: algorithm))
    }

    private init(configuration: TokenConfiguration, source: KeySource?, ring: KeyRing) {
        self.configuration = configuration
        self.source = Mutex(source)
        self.ring = Mutex(ring)
    }

    /// Later reloads read `store`: start-up may load the keys through a pool that does not outlive it (PostgreSQL).
    public func reloadKeys(from store: any SigningKeyStore) {
        source.withLock { $0?.store = store }
    }

    private static func ring(from source: KeySource, algorithm: SigningAlgorithm) async throws -> KeyRing {
        let keys = JWTKeyCollection()
        var activations: [String: Date] = [:]
        var publicKeys: [JWK] = []
        for key in try await source.store.signingKeys(algorithm: algorithm, creatingIfNone: { throw AuthError(.internalError, "no signing key") }) {
            let opened: SigningKey
            if source.sealer.isSealed(key) {
                opened = try source.sealer.open(key)
            } else {
                opened = key
                try await source.store.replacePrivateKey(kid: key.kid, with: try source.sealer.seal(key).privateKey)
            }
            publicKeys.append(try await opened.register(in: keys))
            activations[key.kid] = key.activatesAt
        }
        return KeyRing(keys: keys, activations: activations, jwks: JWKS(keys: publicKeys))
    }

    /// Why the key set is read again, as `latchkey_signing_key_reloads_total` counts it.
    public enum ReloadTrigger: String, Sendable {
        case interval
        case unknownKid = "unknown_kid"
    }

    /// Reads the key set again; a retired key's tokens are refused from then on.
    public func reload(_ trigger: ReloadTrigger = .interval) async throws {
        guard let source = source.withLock({ $0 }) else { return }
        do {
            try await readKeys(from: source)
            Measured.keyReloads[trigger]?.increment()
        } catch {
            Measured.keyReloadsFailed[trigger]?.increment()
            throw error
        }
    }

    private func readKeys(from source: KeySource) async throws {
        let generation = reloadsStarted.withLock { started in
            started += 1
            return started
        }
        var fresh = try await Self.ring(from: source, algorithm: configuration.algorithm)
        fresh.generation = generation
        let dropped = ring.withLock { ring in
            guard fresh.generation > ring.generation else { return false }
            let dropped = !Set(ring.activations.keys).isSubset(of: fresh.activations.keys)
            ring = fresh
            return dropped
        }
        if dropped { cache.removeAll() }
    }

    /// The public keys of every key that may have signed a live token (empty for HS256).
    public var jwks: JWKS { ring.withLock { $0.jwks } }

    /// The key collection and the key that signs at `now` in it: the newest whose activation has come (the oldest,
    /// while none has). One look at the ring, so a reload cannot pair one ring's keys with another's kid.
    private func signer(now: Date) -> (JWTKeyCollection, String) {
        ring.withLock { ring in
            let ordered = ring.activations.sorted { ($0.value, $0.key) < ($1.value, $1.key) }
            return (ring.keys, (ordered.last { $0.value <= now } ?? ordered.first)!.key)
        }
    }

    /// Whether `kid` names a key in use, reloading for an unknown one: at most one reload starts per
    /// `unknownKidReloadInterval`, and requests arriving while it runs wait for it rather than being refused.
    /// When that reload fails (the database is unreachable), the kid may be a new key's: 503, so that the client
    /// tries again rather than drops a token that may be good.
    private func knows(_ kid: String) async throws -> Bool {
        if ring.withLock({ $0.activations[kid] != nil }) { return true }
        guard source.withLock({ $0 != nil }) else { return false }
        let now = ContinuousClock.now
        let reload = unknownKidReload.withLock { last in
            if let last, now - last.startedAt < Self.unknownKidReloadInterval { return last.task }
            let task = Task<Bool, Never> { (try? await self.reload(.unknownKid)) != nil }
            last = (now, task)
            return task
        }
        let reloaded = await reload.value
        if ring.withLock({ $0.activations[kid] != nil }) { return true }
        guard reloaded else { throw AuthError.serviceUnavailable }
        return false
    }

    /// A signed access token for `user` in session `sessionID`.
    public func issue(for user: User, sessionID: UUID, now: Date) async throws -> String {
        let issuedAt = Int64(now.timeIntervalSince1970)
        let claims = AccessTokenClaims(
            iss: configuration.issuer,
            aud: configuration.audience,
            sub: user.id.uuidString.lowercased(),
            sid: sessionID.uuidString.lowercased(),
            role: user.role.rawValue,
            iat: issuedAt,
            exp: issuedAt + Int64(configuration.accessTokenTTL),
            jti: RandomToken.make(bytes: 16)
        )
        let (keys, kid) = signer(now: now)
        return try await keys.sign(claims, kid: JWKIdentifier(string: kid))
    }

    /// Verifies signature, `alg`, `kid`, `crit`, `iss`, `aud`, `exp`, `iat`, `nbf` and the lifetime, and that no
    /// member of header or claims appears twice. Throws `tokenExpired` or `tokenInvalid`, and `serviceUnavailable` for
    /// a kid that it cannot look up.
    public func verify(_ token: String, now: Date) async throws -> VerifiedAccessToken {
        // A hit still needs its key in use: a verification in flight while a key was retired may cache after the purge.
        if let cached = cache.get(token), ring.withLock({ $0.activations[cached.kid] != nil }) {
            guard Double(cached.claims.exp) > now.timeIntervalSince1970 else { throw AuthError.tokenExpired }
            return cached
        }
        let bytes = Array(token.utf8)
        guard AccessTokenRules.hasStrictSegments(token),
            let (header, _, signature) = try? parser.parse(bytes, as: AccessTokenClaims.self),
            !signature.isEmpty,
            header.alg == configuration.algorithm.rawValue,
            let kid = header.kid, try await knows(kid)
        else { throw AuthError.tokenInvalid }
        let claims: AccessTokenClaims
        do {
            claims = try await ring.withLock { $0.keys }.verify(bytes, as: AccessTokenClaims.self)
        } catch {
            throw AuthError.tokenInvalid
        }
        guard let userID = UUID(uuidString: claims.sub), let sessionID = UUID(uuidString: claims.sid) else { throw AuthError.tokenInvalid }
        switch AccessTokenRules.check(
            claims,
            issuer: configuration.issuer,
            audience: configuration.audience,
            maxLifetime: configuration.accessTokenTTL,
            now: now
        ) {
        case .valid: break
        case .expired: throw AuthError.tokenExpired
        case .invalid: throw AuthError.tokenInvalid
        }
        let verified = VerifiedAccessToken(claims: claims, userID: userID, sessionID: sessionID, kid: kid)
        cache.put(token, verified)
        return verified
    }
}

/// An access token whose signature and claims checked out.
public struct VerifiedAccessToken: Sendable {
    public var claims: AccessTokenClaims
    public var userID: UUID
    public var sessionID: UUID
    /// The key that signed it.
    public var kid: String
}
