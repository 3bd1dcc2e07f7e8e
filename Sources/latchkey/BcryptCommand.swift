import ArgumentParser
import HummingbirdBcrypt

/// Measures bcrypt on this machine: the bound on logins per second is cores ÷ the time of one hash.
struct BcryptCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bcrypt-time", abstract: "Print the milliseconds one bcrypt hash takes.")

    @Option(help: "bcrypt cost, 4 to 16.") var cost: Int = 10
    @Option(help: "Hashes to average over.") var rounds: Int = 10

    func validate() throws {
        guard (4...16).contains(cost), rounds > 0 else { throw ValidationError("cost must be 4 to 16 and rounds positive") }
    }

    func run() {
        let start = ContinuousClock.now
        for _ in 0..<rounds { _ = Bcrypt.hash("Tr1cky!password", cost: UInt8(cost)) }
        print((ContinuousClock.now - start) / .milliseconds(1) / Double(rounds))
    }
}
