import Foundation
import Synchronization
import Testing

/// A real SMTP server (aiosmtpd, `Tests/Support/smtp_server.py`) on a loopback port, recording what it accepts.
final class SMTPTestServer: @unchecked Sendable {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appending(path: "Support/smtp_server.py").path

    let port: Int
    let maildir = FileManager.default.temporaryDirectory.appending(path: "latchkey-mail-\(UUID())")
    private var process: Process?

    /// A received message: envelope and parsed headers and text part.
    struct Message {
        var from: String
        var to: [String]
        var raw: String
        var authenticated: Bool
        var tls: Bool

        func header(_ name: String) -> String? {
            let headerBlock = raw.components(separatedBy: "\r\n\r\n").first ?? ""
            for line in headerBlock.components(separatedBy: "\r\n") where line.lowercased().hasPrefix(name.lowercased() + ":") {
                return line.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces)
            }
            return nil
        }

        /// The decoded bodies of the MIME parts, in order.
        var parts: [String] {
            raw.components(separatedBy: "Content-Transfer-Encoding: base64\r\n\r\n").dropFirst().map { part in
                let base64 = part.components(separatedBy: "\r\n--").first!.replacingOccurrences(of: "\r\n", with: "")
                return String(decoding: Data(base64Encoded: base64) ?? Data(), as: UTF8.self)
            }
        }

        /// The token of the first link to `path` in the text part.
        func token(after path: String) -> String? {
            guard let text = parts.first, let range = text.range(of: "\(path)?token=") else { return nil }
            return String(text[range.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
        }
    }

    /// Ports below the ephemeral range, so no client connection takes one, and distinct within the test run, so
    /// parallel tests never collide (a random pick per server did, now and then).
    private static let nextPort = Atomic(Int.random(in: 20000...30000))

    init() {
        self.port = Self.nextPort.wrappingAdd(1, ordering: .relaxed).oldValue
    }

    /// Starts the server with extra arguments such as `--fail-first 1` and waits until it listens.
    func start(_ arguments: [String] = []) async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.script, "--port", String(port), "--maildir", maildir.path] + arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        self.process = process
        for _ in 0..<100 {
            if String(decoding: output.fileHandleForReading.availableData, as: UTF8.self).contains("ready") { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("the SMTP test server did not start")
    }

    func stop() {
        guard let process, process.isRunning else { return }
        process.terminate()
        for _ in 0..<40 where process.isRunning { usleep(50_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: maildir)
    }

    var messages: [Message] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: maildir.path))?.sorted() ?? []
        return files.compactMap { name in
            guard let data = FileManager.default.contents(atPath: maildir.appending(path: name).path),
                let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
            else { return nil }
            return Message(
                from: json["from"] as? String ?? "",
                to: json["to"] as? [String] ?? [],
                raw: json["data"] as? String ?? "",
                authenticated: json["auth"] as? Bool ?? false,
                tls: json["tls"] as? Bool ?? false
            )
        }
    }

    /// Waits until at least `count` messages arrived (up to `timeout`), and returns them all.
    func waitForMessages(_ count: Int, timeout: Duration = .seconds(10)) async throws -> [Message] {
        let deadline = ContinuousClock.now + timeout
        while messages.count < count && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        return messages
    }

    /// The settings that point Latchkey at this server.
    var environment: [String: String] {
        [
            "LATCHKEY_MAIL_TRANSPORT": "smtp",
            "LATCHKEY_SMTP_HOST": "127.0.0.1",
            "LATCHKEY_SMTP_PORT": String(port),
            "LATCHKEY_MAIL_FROM": "Latchkey <auth@latchkey.test>",
            "LATCHKEY_MAIL_POLL_INTERVAL": "50",
            "LATCHKEY_MAIL_RETRY_MAX_DELAY": "1",
            "LATCHKEY_REQUIRE_EMAIL_VERIFICATION": "true",
            "LATCHKEY_APP_URL": "https://app.example.com",
        ]
    }
}
