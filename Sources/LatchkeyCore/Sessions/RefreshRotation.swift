import Crypto
import Foundation

/// One use of a refresh token, prepared by `SessionService` and carried out by a `SessionStore` in a
/// single transaction. The decision rules live here so every backend applies the same ones.
public struct RefreshRotation: Sendable {
    public var presentedHash: Data
    public var successorHash: Data
    /// The successor token encrypted with a key derived from the presented token. Concurrent requests
    /// holding the same presented token can open it and get the same successor; a database dump cannot.
    public var sealedSuccessor: Data
    public var sessionExpiresAt: Date
    public var now: Date
    /// Seconds; 0 turns the grace window off.
    public var grace: Int
    /// Who presented the token, for the audit log.
    public var client: ClientInfo

    public init(
        presentedHash: Data,
        successorHash: Data,
        sealedSuccessor: Data,
        sessionExpiresAt: Date,
        now: Date,
        grace: Int,
        client: ClientInfo
    ) {
        self.presentedHash = presentedHash
        self.successorHash = successorHash
        self.sealedSuccessor = sealedSuccessor
        self.sessionExpiresAt = sessionExpiresAt
        self.now = now
        self.grace = grace
        self.client = client
    }

    /// What the store found for the presented token.
    public struct State: Sendable {
        public var session: Session
        public var user: User
        /// When the presented token was rotated; nil while it is the live token.
        public var rotatedAt: Date?
        /// The successor sealed at that rotation.
        public var sealedSuccessor: Data?
        /// True when the presented token's successor is still the session's live token.
        public var successorIsLive: Bool

        public init(session: Session, user: User, rotatedAt: Date?, sealedSuccessor: Data?, successorIsLive: Bool) {
            self.session = session
            self.user = user
            self.rotatedAt = rotatedAt
            self.sealedSuccessor = sealedSuccessor
            self.successorIsLive = successorIsLive
        }
    }

    public enum Decision: Sendable, Equatable {
        /// The presented token is live: rotate it.
        case rotate
        /// A concurrent request already rotated it moments ago: hand out the same successor.
        case replay(sealedSuccessor: Data)
        /// An old token came back: revoke the session.
        case reuse
        case invalid
        case accountDisabled
    }

    public enum Outcome: Sendable {
        case rotated(Session, User)
        case replayed(Session, User, sealedSuccessor: Data)
        /// The session was revoked.
        case reused
        case invalid
        case accountDisabled

        /// The metric's name for it.
        var name: String {
            switch self {
            case .rotated: "rotated"
            case .replayed: "replayed"
            case .reused: "reused"
            case .invalid: "invalid"
            case .accountDisabled: "disabled"
            }
        }
    }

    public func decide(_ state: State) -> Decision {
        guard state.user.isActive else { return .accountDisabled }
        guard state.session.isLive(at: now) else { return .invalid }
        guard let rotatedAt = state.rotatedAt else { return .rotate }
        if state.successorIsLive, let sealed = state.sealedSuccessor, now.timeIntervalSince(rotatedAt) <= Double(grace), grace > 0 {
            return .replay(sealedSuccessor: sealed)
        }
        return .reuse
    }

    /// The outcome once the store has carried out `decision` (rotated the token or revoked the session).
    public func outcome(of decision: Decision, session: Session, user: User) -> Outcome {
        switch decision {
        case .rotate:
            var updated = session
            updated.lastUsedAt = now
            updated.expiresAt = sessionExpiresAt
            return .rotated(updated, user)
        case .replay(let sealed): return .replayed(session, user, sealedSuccessor: sealed)
        case .reuse: return .reused
        case .invalid: return .invalid
        case .accountDisabled: return .accountDisabled
        }
    }

    /// What the audit log records of `decision`, in the same transaction: a rotation or a detected reuse. A replay
    /// changes nothing, so it records nothing.
    public func auditEvent(for decision: Decision, session: Session) -> AuditEvent? {
        let type: AuditEvent.Kind
        switch decision {
        case .rotate: type = .tokenRefreshed
        case .reuse: type = .tokenReuseDetected
        case .replay, .invalid, .accountDisabled: return nil
        }
        return AuditEvent(type, by: client, at: now, userID: session.userID, sessionID: session.id)
    }

    /// Encrypts `successor` under a key only the holder of `presented` can derive.
    static func seal(_ successor: String, presented: String) throws -> Data {
        try AES.GCM.seal(Data(successor.utf8), using: key(presented)).combined!
    }

    static func open(_ sealed: Data, presented: String) throws -> String {
        let plain = try AES.GCM.open(AES.GCM.SealedBox(combined: sealed), using: key(presented))
        return String(decoding: plain, as: UTF8.self)
    }

    private static func key(_ presented: String) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: Data(presented.utf8)),
            info: Data("latchkey refresh successor".utf8),
            outputByteCount: 32
        )
    }
}
