import Crypto
import Foundation
import JWTKit
import LatchkeyAPI
import LatchkeyKeyRing

/// The server's access tokens: keys read from the database into the key ring that checks tokens
/// (`AccessTokenKeyRing`, shared with LatchkeyVerifier), `AccessTokenSigner` to sign with them, and the JWKS.
///
/// Asymmetric keys change while the server runs (`latchkey keys rotate|retire`): `reload` reads them again (every
/// `LATCHKEY_KEY_RELOAD_INTERVAL`), and so does a token whose `kid` is unknown, at most every
/// `unknownKidReloadInterval` (the ring's rule).
public final class TokenIssuer: Sendable {
    public let configuration: TokenConfiguration
    /// Looks up and checks tokens' keys.
    public let ring: AccessTokenKeyRing
    /// Signs with the ring's newest active key.
    public let signer: AccessTokenSigner
    private let source: KeySource
    /// A flood of made-up `kid`s costs at most one database read per interval.
    public static let unknownKidReloadInterval = Duration.seconds(5)

    /// Where asymmetric keys come from.
    private struct KeySource: Sendable {
        var store: any SigningKeyStore
        var sealer: SigningKeySealer
    }

    /// An issuer with no keys yet: `load` reads them.
    public init(configuration: TokenConfiguration, store: any SigningKeyStore, sealer: SigningKeySealer) {
        self.configuration = configuration
        self.source = KeySource(store: store, sealer: sealer)
        self.ring = AccessTokenKeyRing(
            rules: .init(
                algorithms: [configuration.algorithm.rawValue],
                issuer: configuration.issuer,
                audience: configuration.audience,
                maxLifetime: configuration.accessTokenTTL
            ),
            unknownKidInterval: Self.unknownKidReloadInterval
        )
        self.signer = AccessTokenSigner(ring: ring)
    }

    /// Loads the signing keys of the configured algorithm, generating and storing one if there is none. Private keys
    /// rest sealed under the KEK; keys stored in the clear by an earlier version are sealed now.
    public func load(now: Date = Date()) async throws {
        let started = ContinuousClock.now
        guard configuration.algorithm != .hs256 else {
            guard let secret = configuration.hmacSecret else { throw AuthError(.internalError, "HS256 needs a secret") }
            // The kid names the secret without revealing it, so a changed secret gets a new kid.
            let kid = Base64URL.encode(Data(SHA256.hash(data: Data(secret.utf8))).prefix(12))
            let collection = JWTKeyCollection()
            await collection.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256, kid: JWKIdentifier(string: kid))
            let keys = AccessTokenKeyRing.Keys(
                collection: collection,
                algorithms: [kid: SigningAlgorithm.hs256.rawValue],
                activations: [kid: .distantPast],
                published: JWKS(keys: [])
            )
            return ring.replace(with: keys, readSince: started)
        }
        let (algorithm, sealer) = (configuration.algorithm, source.sealer)
        _ = try await source.store.signingKeys(algorithm: algorithm) {
            let key = try sealer.seal(SigningKey.generate(algorithm, now: now))
            return (key, SigningKeyService.rotatedIn(key, by: .serverStart))
        }
        ring.replace(with: try await Self.keys(from: source, algorithm: algorithm), readSince: started)
    }

    private static func keys(from source: KeySource, algorithm: SigningAlgorithm) async throws -> AccessTokenKeyRing.Keys {
        let collection = JWTKeyCollection()
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
            publicKeys.append(try await opened.register(in: collection))
            activations[key.kid] = key.activatesAt
        }
        return AccessTokenKeyRing.Keys(
            collection: collection,
            algorithms: activations.mapValues { _ in algorithm.rawValue },
            activations: activations,
            published: JWKS(keys: publicKeys)
        )
    }

    /// Why the key set is read again, as `latchkey_signing_key_reloads_total` counts it.
    public enum ReloadTrigger: String, Sendable {
        case interval
        case unknownKid = "unknown_kid"
    }

    /// Reads the key set again; a retired key's tokens are refused from then on.
    public func reload(_ trigger: ReloadTrigger = .interval) async throws {
        guard configuration.algorithm != .hs256 else { return }
        let started = ContinuousClock.now
        do {
            ring.replace(with: try await Self.keys(from: source, algorithm: configuration.algorithm), readSince: started)
            Measured.keyReloads[trigger]?.increment()
        } catch {
            Measured.keyReloadsFailed[trigger]?.increment()
            throw error
        }
    }

    /// The public keys of every key that may have signed a live token (empty for HS256).
    public var jwks: JWKS { ring.keys?.published ?? JWKS(keys: []) }

    /// A signed access token for `user` in `session`, saying how and when the session signed in.
    public func issue(for user: User, session: Session, now: Date) async throws -> String {
        let issuedAt = Int64(now.timeIntervalSince1970)
        let claims = AccessTokenClaims(
            iss: configuration.issuer,
            aud: configuration.audience,
            sub: user.id.uuidString.lowercased(),
            sid: session.id.uuidString.lowercased(),
            role: user.role.rawValue,
            iat: issuedAt,
            exp: issuedAt + Int64(configuration.accessTokenTTL),
            jti: RandomToken.make(bytes: 16),
            amr: session.amr,
            authTime: Int64(session.authTime.timeIntervalSince1970)
        )
        return try await signer.sign(claims, now: now)
    }

    /// Verifies the token with the ring (signature, `alg`, `kid`, `crit`, `iss`, `aud`, `exp`, `iat`, `nbf`, the
    /// lifetime, no member twice) and reads its user and session. Throws `tokenExpired` or `tokenInvalid`, and
    /// `serviceUnavailable` for a `kid` that it cannot look up: it may be a new key's, so the client should try again
    /// rather than drop a token that may be good.
    public func verify(_ token: String, now: Date) async throws -> VerifiedAccessToken {
        let verified: (claims: AccessTokenClaims, kid: String)
        do {
            verified = try await ring.verify(token, now: now) { try await self.reload(.unknownKid) }
        } catch .expired {
            throw AuthError.tokenExpired
        } catch .invalid {
            throw AuthError.tokenInvalid
        } catch .keysUnavailable {
            throw AuthError.serviceUnavailable
        }
        guard let userID = UUID(uuidString: verified.claims.sub), let sessionID = UUID(uuidString: verified.claims.sid) else {
            throw AuthError.tokenInvalid
        }
        return VerifiedAccessToken(claims: verified.claims, userID: userID, sessionID: sessionID, kid: verified.kid)
    }
}

/// Signs access tokens with the key of the ring that signs now: the newest whose activation has come (the oldest,
/// while none has).
public struct AccessTokenSigner: Sendable {
    let ring: AccessTokenKeyRing

    public func sign(_ claims: AccessTokenClaims, now: Date) async throws -> String {
        // One look at the ring, so that a reload cannot pair one set's keys with another's kid.
        guard let keys = ring.keys,
            let kid = keys.activations.sorted(by: { ($0.value, $0.key) < ($1.value, $1.key) }).last(where: { $0.value <= now })?.key
                ?? keys.activations.min(by: { ($0.value, $0.key) < ($1.value, $1.key) })?.key
        else { throw AuthError(.internalError, "no signing key") }
        return try await keys.collection.sign(claims, kid: JWKIdentifier(string: kid))
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
