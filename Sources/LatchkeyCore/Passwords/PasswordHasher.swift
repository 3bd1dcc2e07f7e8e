import HummingbirdBcrypt
import NIOPosix

/// bcrypt on NIO's shared thread pool: blocking work never runs on an event loop, and the pool's fixed
/// size (one thread per core) bounds how much of the machine a login storm can take.
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
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    /// Checks `password` against `hash`; with no hash, spends the same time and returns false.
    public func verify(_ password: String, hash: String?) async throws -> Bool {
        let target = hash ?? decoyHash
        let matches = try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: target) }
        return matches && hash != nil
    }
}
