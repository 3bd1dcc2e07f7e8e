import HummingbirdBcrypt
import NIOCore
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// bcrypt on a thread pool of its own: blocking work never runs on an event loop, and the pool's size and priority
/// set the share of the machine that logins get when requests compete with them for the CPU. Idle, bcrypt has every
/// core. Busy, Linux shares the CPU between runnable threads by weight: the pool's two threads per core, at nice 1 and
/// as batch (CPU-bound) threads, hold about half of it against the event loops and keep the other half for request
/// handling. Measured on 2 cores (`scripts/bench`, the mixed row, several runs): one thread per core at nice 10 left
/// logins 16-21% of their bound while `/auth/me` was busy; two per core at nice 0 gave logins 54% but `/auth/me` 3.1x
/// its quiet p99; this gives 46-68% and 2.4-6x, as runs swing. Pinning the pool to one core and the event loops to the
/// other gave `/auth/me` 1.7-2.1x but logins 43%: one core of bcrypt is under half the bound (48% with nothing else
/// running), so logins at half the bound need bcrypt on every core, and its slices then delay requests
/// (`bench/results/2026-12-03-mixed-row-designs.md`).
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
        return try await Self.run { Bcrypt.hash(password, cost: cost) }
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
        try await Self.run { Bcrypt.verify(password, hash: hash) }
    }

    /// `hash` as stored for an import, nil when it is not a bcrypt hash of cost 4 to 16. `$2y$` (PHP) and `$2b$` are the
    /// same algorithm, but HummingbirdBcrypt verifies only `$2a$`/`$2b$`: `$2y$` is stored as `$2b$`.
    public static func importable(_ hash: String) -> String? {
        let bytes = Array(hash.utf8)
        let alphabet = Set("./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)
        guard bytes.count == 60, hash.hasPrefix("$2"), ["a", "b", "y"].contains(Character(UnicodeScalar(bytes[2]))), bytes[3] == UInt8(ascii: "$"),
            bytes[6] == UInt8(ascii: "$"), let cost = Self.cost(of: hash), (4...16).contains(cost), bytes[7...].allSatisfy(alphabet.contains)
        else { return nil }
        return hash.hasPrefix("$2y$") ? "$2b$" + hash.dropFirst(4) : hash
    }

    /// The cost of a bcrypt hash (`$2b$10$…` is 10).
    public static func cost(of hash: String) -> Int? {
        let bytes = Array(hash.utf8)
        guard bytes.count > 6, bytes[4...5].allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else { return nil }
        return Int(String(decoding: bytes[4...5], as: UTF8.self))
    }

    /// Whether a stored hash should be replaced at the next successful login: it has another cost than the configured one.
    public func needsRehash(_ hash: String) -> Bool {
        Self.cost(of: hash) != cost
    }

    /// Lives as long as the process, like NIO's singletons.
    private static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 2 * System.coreCount)
        pool.start()
        return pool
    }()

    /// Runs a hash on the pool, counted while it waits for a thread and while it runs (`latchkey_bcrypt_queue_length`,
    /// `latchkey_bcrypt_running`).
    private static func run<Result: Sendable>(_ work: @escaping @Sendable () -> Result) async throws -> Result {
        let place = QueuePlace()
        defer { place.leave() }
        return try await pool.runIfActive {
            place.leave()
            Measured.bcryptRunning.increment()
            defer { Measured.bcryptRunning.decrement() }
            lowerThreadPriority()
            return work()
        }
    }

    /// Nice 1 and `SCHED_BATCH` for the calling thread (on Linux both are per thread, and 0 is the calling one): a
    /// batch thread is not favoured when it wakes, so it does not preempt request handling, and its slices are longer.
    /// Neither needs a privilege. Cheap next to a hash.
    private static func lowerThreadPriority() {
        #if os(Linux)
        // SCHED_BATCH of <linux/sched.h>, which Glibc's module does not export.
        let schedBatch: Int32 = 3
        var parameter = sched_param(sched_priority: 0)
        _ = sched_setscheduler(0, schedBatch, &parameter)
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 1)
        #endif
    }
}

/// A job's place in the bcrypt queue (`latchkey_bcrypt_queue_length`). It is left once: when the job starts, or when its
/// task is cancelled while it waits (the pool then drops the job), whichever comes first.
private final class QueuePlace: Sendable {
    private let waiting = Atomic(true)

    init() {
        Measured.bcryptQueued.increment()
    }

    func leave() {
        if waiting.exchange(false, ordering: .relaxed) { Measured.bcryptQueued.decrement() }
    }
}
