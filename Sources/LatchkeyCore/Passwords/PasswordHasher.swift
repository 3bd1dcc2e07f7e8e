import HummingbirdBcrypt
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// bcrypt on a thread pool of its own: blocking work never runs on an event loop, the pool's fixed size
/// (one thread per core) bounds how much of the machine a login storm can take, and its threads run at a
/// lower priority, so a storm takes the CPU that request handling leaves idle instead of delaying it.
///
/// Passwords are hashed and checked in Unicode NFC (NIST 800-63B §5.1.1.2), so the same password typed on
/// two keyboards that compose characters differently is the same password.
public struct PasswordHasher: Sendable {
    public let cost: Int
    /// A hash of a random password, verified against when the account does not exist, so an unknown
    /// email costs the same time as a wrong password.
    private let decoyHash: String

    public init(cost: Int) {
        precondition((4...31).contains(cost), "bcrypt cost is validated by AccountConfiguration")
        self.cost = cost
        self.decoyHash = Bcrypt.hash(RandomToken.make(), cost: UInt8(cost))
    }

    public func hash(_ password: String) async throws -> String {
        let cost = UInt8(cost)
        let password = password.nfc
        return try await Self.pool.runIfActive {
            Self.lowerThreadPriority()
            return Bcrypt.hash(password, cost: cost)
        }
    }

    /// Checks `password` against `hash`; with no hash, spends the same time and returns false.
    public func verify(_ password: String, hash: String?) async throws -> Bool {
        let target = hash ?? decoyHash
        let normalized = password.nfc
        var matches = try await verifyExactly(normalized, hash: target)
        // Hashes made before passwords were normalised hold the bytes as typed. Only a password that NFC
        // changes costs a second hash, whether or not the account exists.
        if !matches && normalized.utf8.elementsEqual(password.utf8) == false {
            matches = try await verifyExactly(password, hash: target)
        }
        return matches && hash != nil
    }

    private func verifyExactly(_ password: String, hash: String) async throws -> Bool {
        try await Self.pool.runIfActive {
            Self.lowerThreadPriority()
            return Bcrypt.verify(password, hash: hash)
        }
    }

    /// Lives as long as the process, like NIO's singletons.
    private static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: System.coreCount)
        pool.start()
        return pool
    }()

    /// Nice 10 for the calling thread (on Linux the nice value is per thread, and `who` 0 is the calling
    /// one): with the scheduler's weights that leaves a login storm about a tenth of a busy CPU, and all of
    /// an idle one. Cheap next to a hash.
    private static func lowerThreadPriority() {
        #if os(Linux)
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)
        #endif
    }
}
