import Crypto
import Foundation
import JWTKit
import LatchkeyAPI

extension AccessTokenClaims: JWTPayload {
    /// Claims are checked by `TokenIssuer.verify` after the signature, with the configured issuer and
    /// audience and our own clock, so that expiry and invalidity map to different error codes.
    public func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// Signs and verifies access tokens with the configured algorithm and publishes the JWKS.
///
/// JWTKit picks the default key when a token's `kid` is missing or unknown, and accepts any `alg` a key
/// can check, so both are pinned here before JWTKit sees the token.
public struct TokenIssuer: Sendable {
    public let configuration: TokenConfiguration
    /// The public keys of every key that may have signed a live token (empty for HS256).
    public let jwks: JWKS
    private let keys: JWTKeyCollection
    private let signingKid: String
    private let knownKids: Set<String>
    private let parser = DefaultJWTParser()
    private let cache = VerifiedTokenCache()

    /// Loads the signing keys of the configured algorithm from `store`, generating and storing one if there is none.
    /// Private keys rest sealed under the KEK; keys stored in the clear by an earlier version are sealed now.
    public static func load(
        configuration: TokenConfiguration,
        store: any SigningKeyStore,
        sealer: SigningKeySealer,
        now: Date = Date()
    ) async throws -> TokenIssuer {
        let keys = JWTKeyCollection()
        if configuration.algorithm == .hs256 {
            guard let secret = configuration.hmacSecret else { throw AuthError(.internalError, "HS256 needs a secret") }
            // The kid names the secret without revealing it, so a changed secret gets a new kid.
            let kid = Base64URL.encode(Data(SHA256.hash(data: Data(secret.utf8))).prefix(12))
            await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256, kid: JWKIdentifier(string: kid))
            return TokenIssuer(configuration: configuration, jwks: JWKS(keys: []), keys: keys, signingKid: kid, knownKids: [kid])
        }
        let algorithm = configuration.algorithm
        let stored = try await store.signingKeys(algorithm: algorithm) { try sealer.seal(SigningKey.generate(algorithm, now: now)) }
        var publicKeys: [JWK] = []
        for key in stored {
            let opened: SigningKey
            if sealer.isSealed(key) {
                opened = try sealer.open(key)
            } else {
                opened = key
                try await store.replacePrivateKey(kid: key.kid, with: try sealer.seal(key).privateKey)
            }
            publicKeys.append(try await opened.register(in: keys))
        }
        // Every instance signs with the oldest key, so all agree once keys are rotated in.
        let signingKid = stored.min { ($0.createdAt, $0.kid) < ($1.createdAt, $1.kid) }!.kid
        return TokenIssuer(
            configuration: configuration,
            jwks: JWKS(keys: publicKeys),
            keys: keys,
            signingKid: signingKid,
            knownKids: Set(stored.map(\.kid))
        )
    }

    private init(configuration: TokenConfiguration, jwks: JWKS, keys: JWTKeyCollection, signingKid: String, knownKids: Set<String>) {
        self.configuration = configuration
        self.jwks = jwks
        self.keys = keys
        self.signingKid = signingKid
        self.knownKids = knownKids
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
        return try await keys.sign(claims, kid: JWKIdentifier(string: signingKid))
    }

    /// How far in the future `iat` and `nbf` may be: instances' clocks differ a little.
    static let clockLeeway: Double = 30

    /// Verifies signature, `alg`, `kid`, `crit`, `iss`, `aud`, `exp`, `iat`, `nbf` and the lifetime, and that no
    /// member of header or claims appears twice. Throws `tokenExpired` or `tokenInvalid`.
    public func verify(_ token: String, now: Date) async throws -> VerifiedAccessToken {
        if let cached = cache.get(token) {
            guard Double(cached.claims.exp) > now.timeIntervalSince1970 else { throw AuthError.tokenExpired }
            return cached
        }
        let bytes = Array(token.utf8)
        guard Self.hasStrictSegments(token),
            let (header, _, signature) = try? parser.parse(bytes, as: AccessTokenClaims.self),
            !signature.isEmpty,
            header.alg == configuration.algorithm.rawValue,
            let kid = header.kid, knownKids.contains(kid)
        else { throw AuthError.tokenInvalid }
        let claims: AccessTokenClaims
        do {
            claims = try await keys.verify(bytes, as: AccessTokenClaims.self)
        } catch {
            throw AuthError.tokenInvalid
        }
        guard claims.iss == configuration.issuer, claims.aud == configuration.audience,
            let userID = UUID(uuidString: claims.sub), let sessionID = UUID(uuidString: claims.sid)
        else { throw AuthError.tokenInvalid }
        let seconds = now.timeIntervalSince1970
        guard Double(claims.iat) <= seconds + Self.clockLeeway, Double(claims.nbf ?? 0) <= seconds + Self.clockLeeway,
            Double(claims.exp) - Double(claims.iat) <= Double(configuration.accessTokenTTL)
        else { throw AuthError.tokenInvalid }
        guard Double(claims.exp) > seconds else { throw AuthError.tokenExpired }
        let verified = VerifiedAccessToken(claims: claims, userID: userID, sessionID: sessionID)
        cache.put(token, verified)
        return verified
    }
}

extension TokenIssuer {
    /// Header and claims are UTF-8 JSON objects with no member twice (JWTKit's decoder would keep one of
    /// them silently), and the header has no `crit` member, not even `null` (which JWTKit reads as absent): we
    /// implement no extension (RFC 7515 §4.1.11).
    static func hasStrictSegments(_ token: String) -> Bool {
        let segments = token.split(separator: ".", omittingEmptySubsequences: false)
        guard segments.count == 3, let header = Base64URL.decode(segments[0]), let claims = Base64URL.decode(segments[1]),
            StrictJSON.isStrict(header), StrictJSON.isStrict(claims),
            let headerObject = try? JSONSerialization.jsonObject(with: Data(header)) as? [String: Any]
        else { return false }
        return headerObject["crit"] == nil
    }
}

/// An access token whose signature and claims checked out.
public struct VerifiedAccessToken: Sendable {
    public var claims: AccessTokenClaims
    public var userID: UUID
    public var sessionID: UUID
}
