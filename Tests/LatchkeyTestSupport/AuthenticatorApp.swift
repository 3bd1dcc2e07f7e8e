import ExtrasBase64
import Foundation
import LatchkeyCore
import Synchronization

/// An authenticator app: codes of the enrolled secret, each of a step after the last one it gave (the server never
/// takes a step twice), within the server's window of one step either side.
public final class AuthenticatorApp: Sendable {
    public let secret: [UInt8]
    private let lastStep = Mutex<Int64>(.min)

    public init(secret: String) throws {
        self.secret = try secret.base32decoded()
    }

    public func nextCode() async throws -> String {
        while true {
            let now = Date()
            let current = TOTPFactor.step(at: now)
            // The step before is taken only well inside the current one: a request that crossed into the next step
            // would find it outside the window.
            let earliest = now.timeIntervalSince1970.truncatingRemainder(dividingBy: 30) < 25 ? current - 1 : current
            let step = lastStep.withLock { last -> Int64? in
                guard let step = (earliest...(current + 1)).first(where: { $0 > last }) else { return nil }
                last = step
                return step
            }
            if let step { return TOTPFactor.code(secret: secret, step: step) }
            try await Task.sleep(for: .seconds(1))
        }
    }

    /// A code the server has taken already.
    public func usedCode() -> String {
        TOTPFactor.code(secret: secret, step: lastStep.withLock { $0 })
    }
}
