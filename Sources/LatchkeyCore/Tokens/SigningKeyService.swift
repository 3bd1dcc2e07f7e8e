import Foundation
import LatchkeyAPI
import Logging

/// Signing-key rotation, for `latchkey keys`: a rotated-in key is published at once and signs after the activation
/// delay; a retired key is dropped, and tokens it signed are refused (every instance sees both on its next reload).
public struct SigningKeyService: Sendable {
    let store: any SigningKeyStore
    let sealer: SigningKeySealer
    let configuration: TokenConfiguration

    public init(store: any SigningKeyStore, sealer: SigningKeySealer, configuration: TokenConfiguration) {
        self.store = store
        self.sealer = sealer
        self.configuration = configuration
    }

    /// Every key, retired ones too, oldest first; private keys stay sealed.
    public func list() async throws -> [SigningKey] {
        try await store.allSigningKeys()
    }

    /// The key that signs now for the configured algorithm: the newest whose activation has come.
    public func signingKey(now: Date = Date()) async throws -> SigningKey? {
        Self.signingKey(among: try await store.allSigningKeys(), algorithm: configuration.algorithm, now: now)
    }

    static func signingKey(among keys: [SigningKey], algorithm: SigningAlgorithm, now: Date) -> SigningKey? {
        keys.filter { $0.algorithm == algorithm && $0.retiredAt == nil }
            .sorted { ($0.activatesAt, $0.kid) < ($1.activatesAt, $1.kid) }.last { $0.activatesAt <= now }
    }

    /// Adds a key of `algorithm` (default: the configured one) that signs after `keyActivationDelay`.
    public func rotate(algorithm: SigningAlgorithm? = nil, client: ClientInfo, logger: Logger, now: Date = Date()) async throws -> SigningKey {
        let algorithm = algorithm ?? configuration.algorithm
        guard algorithm != .hs256 else {
            throw AuthError.validation(field: "algorithm", "HS256 keys come from LATCHKEY_JWT_SECRET; change the secret instead")
        }
        let activatesAt = now.addingTimeInterval(Double(configuration.keyActivationDelay))
        let key = try sealer.seal(SigningKey.generate(algorithm, now: now, activatesAt: activatesAt))
        try await store.addSigningKey(key, audit: Self.rotatedIn(key, by: client))
        logger.notice("signing key rotated in", metadata: ["event": "key.rotated", "kid": "\(key.kid)", "activatesAt": "\(activatesAt)"])
        return key
    }

    /// The `key.rotated` event of a new key.
    static func rotatedIn(_ key: SigningKey, by client: ClientInfo) -> AuditEvent {
        let details: [String: AuditValue] = [
            "kid": .string(key.kid), "algorithm": .string(key.algorithm.rawValue), "activatesAt": .string(key.activatesAt.formatted(.iso8601)),
        ]
        return AuditEvent(.keyRotated, by: client, at: key.createdAt, details: details)
    }

    /// Retires a key; refused for the key that signs now for its algorithm, whatever this process is configured with
    /// (rotate first, and retire it once its tokens have expired), and when no key of its algorithm signs yet, so an
    /// instance always keeps a key to sign with. The live keys are checked in the retiring transaction: two
    /// retirements at once, or one whose clock is behind, cannot take the last key that signs.
    public func retire(kid: String, client: ClientInfo, logger: Logger, now: Date = Date()) async throws {
        let audit = AuditEvent(.keyRetired, by: client, at: now, details: ["kid": .string(kid)])
        let retired = try await store.retireSigningKey(kid: kid, now: now, audit: audit) { liveKeys in
            guard let key = liveKeys.first(where: { $0.kid == kid }) else { return }
            guard let signing = Self.signingKey(among: liveKeys, algorithm: key.algorithm, now: now), signing.kid != kid else {
                throw AuthError.validation(field: "kid", "is the signing key; rotate a new key in first")
            }
        }
        guard retired else {
            throw AuthError(.notFound, "No live signing key has the kid \(kid)")
        }
        logger.notice("signing key retired", metadata: ["event": "key.retired", "kid": "\(kid)"])
    }
}
