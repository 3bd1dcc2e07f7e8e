import Foundation
import LatchkeyVerifier

/// How many access tokens `AccessTokenVerifier` checks per second and core, for `scripts/bench`: in full (each token
/// new to it, so the signature is checked) and again (the same token, as a client's repeated requests bring it).
///
/// Usage: verifier-throughput SERVER_URL TOKENS_FILE SECONDS. TOKENS_FILE holds access tokens of that server, one per
/// line, more than the verifier caches (4096). Prints one JSON object.
@main
struct VerifierThroughput {
    static func main() async throws {
        let arguments = CommandLine.arguments
        guard arguments.count == 4, let server = URL(string: arguments[1]), let seconds = Double(arguments[3]) else {
            FileHandle.standardError.write(Data("usage: verifier-throughput SERVER_URL TOKENS_FILE SECONDS\n".utf8))
            exit(64)
        }
        let tokens = try String(contentsOfFile: arguments[2], encoding: .utf8).split(separator: "\n").map(String.init)
        let verifier = AccessTokenVerifier(configuration: .init(serverURL: server))
        _ = try await verifier.verify(tokens[0])
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let full = try await rate(cores: cores, seconds: seconds) { worker, round in
            tokens[(round * cores + worker) % tokens.count]
        } verify: {
            _ = try await verifier.verify($0)
        }
        let cached = try await rate(cores: cores, seconds: seconds) { _, _ in
            tokens[0]
        } verify: {
            _ = try await verifier.verify($0)
        }
        print(#"{"fullPerCore": \#(Int(full / Double(cores))), "cachedPerCore": \#(Int(cached / Double(cores))), "cores": \#(cores)}"#)
    }

    /// Verifications per second of `cores` loops, each taking its tokens from `token(worker, round)`.
    static func rate(
        cores: Int,
        seconds: Double,
        token: @escaping @Sendable (Int, Int) -> String,
        verify: @escaping @Sendable (String) async throws -> Void
    ) async throws -> Double {
        let deadline = ContinuousClock.now + .seconds(seconds)
        let started = ContinuousClock.now
        let count = try await withThrowingTaskGroup(of: Int.self) { group in
            for worker in 0..<cores {
                group.addTask {
                    var round = 0
                    while ContinuousClock.now < deadline {
                        // A refused token (one that expired during the run) is a verification all the same.
                        try? await verify(token(worker, round))
                        round += 1
                    }
                    return round
                }
            }
            return try await group.reduce(0, +)
        }
        return Double(count) / ((ContinuousClock.now - started) / .seconds(1))
    }
}
