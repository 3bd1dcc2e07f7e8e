import Configuration
import ExtrasBase64
import Foundation
import LatchkeyAPI
import LatchkeyCore
import LatchkeyServer
import Logging

// The bench-only step of `scripts/bench --mfa`: sign-ins waiting for their second step are single-use, so a run spends
// thousands. This makes them through Core, without the bcrypt-paced logins they would otherwise cost: COUNT accounts
// without a password, each with TOTP on (confirmed with a code of the current step) and one pending challenge, and writes
// one line per account to OUTPUT: "mfaToken base32secret". The configuration comes from the environment, as for
// `latchkey serve`: the same database and key-encryption key as the server under test.
//
// Usage: mfa-seed COUNT OUTPUT

let arguments = CommandLine.arguments
guard arguments.count == 3, let count = Int(arguments[1]), count > 0 else {
    FileHandle.standardError.write(Data("usage: mfa-seed COUNT OUTPUT\n".utf8))
    exit(64)
}
let logger = {
    var logger = Logger(label: "mfa-seed")
    logger.logLevel = .warning
    return logger
}()
let configuration = try await LatchkeyConfiguration(reader: ConfigReader(provider: EnvironmentVariablesProvider()))
let services = try await LatchkeyServices.open(configuration: configuration, logger: logger)
let run = UUID().uuidString.prefix(8).lowercased()

@Sendable func seed(_ index: Int) async throws -> String {
    let now = Date()
    let user = User(
        id: UUID(),
        email: "bench-mfa-\(run)-\(index)@example.com",
        passwordHash: "",
        name: "Bench",
        role: .user,
        emailVerified: true,
        createdAt: now,
        updatedAt: now,
        deletedAt: nil
    )
    try await services.database.users.insertUser(
        user,
        verification: nil,
        audit: AuditEvent(.userRegistered, by: .commandLine, at: now, userID: user.id)
    )
    // Without a password, a sign-in of this moment confirms the enrolment.
    let identity = Identity(user: user, sessionID: UUID(), amr: ["pwd"], authTime: now)
    let enrolment = try await services.secondFactors.enrollTOTP(identity, Confirmation(password: nil, code: nil), client: .commandLine)
    let code = TOTPFactor.code(secret: try enrolment.secret.base32decoded(), step: TOTPFactor.step(at: Date()))
    _ = try await services.secondFactors.confirmTOTP(identity, code: code, client: .commandLine, logger: logger)
    guard
        case .secondFactorRequired(let pending) = try await services.sessions.finishSignIn(
            user,
            methods: [.password],
            client: .commandLine,
            logger: logger
        )
    else { throw AuthError(.internalError, "an account with TOTP signed in without a challenge") }
    return "\(pending.mfaToken) \(enrolment.secret)"
}

let lines = try await services.whileConnected {
    // Sixteen at a time: PostgreSQL's round trips overlap; SQLite's writer takes them in turn.
    try await withThrowingTaskGroup(of: [String].self) { group in
        let workers = 16
        for worker in 0..<workers {
            group.addTask { try await stride(from: worker, to: count, by: workers).asyncMap(seed) }
        }
        return try await group.reduce(into: [String]()) { $0 += $1 }
    }
}
try (lines.joined(separator: "\n") + "\n").write(toFile: arguments[2], atomically: true, encoding: .utf8)

extension Sequence where Element: Sendable {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async throws -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
