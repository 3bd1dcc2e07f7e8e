import Synchronization

/// Access tokens whose signature was already checked, so a client's repeated requests skip the signature math (EdDSA
/// verification costs ~80 µs). Keyed by the whole token: any changed byte is a miss and is verified in full. The claims
/// (expiry first) are still checked on every hit, by the server and by LatchkeyVerifier alike. Bounded: when full, it
/// starts over.
public final class VerifiedTokenCache<Value: Sendable>: Sendable {
    private let entries = Mutex<[String: Value]>([:])
    private let capacity: Int

    public init(capacity: Int = 4096) {
        self.capacity = capacity
    }

    public func get(_ token: String) -> Value? {
        entries.withLock { $0[token] }
    }

    public func put(_ token: String, _ value: Value) {
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[token] = value
        }
    }

    /// Forgets every token: after a key was retired, tokens it signed must be checked again (and refused).
    public func removeAll() {
        entries.withLock { $0.removeAll() }
    }
}
