import Synchronization

/// Access tokens whose signature was already checked, so a client's repeated requests skip the signature
/// math (EdDSA verification costs ~80 µs). Keyed by the whole token: any changed byte is a miss and is
/// verified in full. Expiry is still checked on every hit. Bounded: when full, it starts over.
final class VerifiedTokenCache: Sendable {
    private let entries = Mutex<[String: VerifiedAccessToken]>([:])
    private let capacity: Int

    init(capacity: Int = 4096) {
        self.capacity = capacity
    }

    func get(_ token: String) -> VerifiedAccessToken? {
        entries.withLock { $0[token] }
    }

    func put(_ token: String, _ verified: VerifiedAccessToken) {
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[token] = verified
        }
    }

    /// Forgets every token: after a key was retired, tokens it signed must be checked again (and refused).
    func removeAll() {
        entries.withLock { $0.removeAll() }
    }
}
