import Foundation
import Synchronization

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A real `latchkey serve` (the debug build) on its own database and a port of its own, for tests that need the process:
/// start-up, signals, metrics, and the libraries that talk to a server.
/// Owned by one test at a time; Process itself is not Sendable.
public final class ServerProcess: @unchecked Sendable {
    public static let executable = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appending(path: ".build/debug/latchkey")

    public let process = Process()
    /// The server's log goes to a file: a pipe nobody reads would fill up and block the server.
    private let logFile = FileManager.default.temporaryDirectory.appending(path: "latchkey-serve-\(UUID()).log")
    public let port: Int
    public let database: TestDatabase
    public let environment: [String: String]

    /// Ports below the ephemeral range and the SMTP test ports, distinct within the test run so that servers started by
    /// parallel tests never collide.
    private static let nextPort = Atomic(Int.random(in: 10000...18999))

    /// `port`: another server's, to start it again.
    public init(_ environment: [String: String] = [:], database: TestDatabase = TestDatabase(), port: Int? = nil) throws {
        let port = port ?? Self.nextPort.wrappingAdd(1, ordering: .relaxed).oldValue
        self.port = port
        self.database = database
        self.environment = database.environment.merging(["LATCHKEY_PORT": String(port), "LATCHKEY_BCRYPT_COST": "4"]) { $1 }
            .merging(environment) { $1 }
        process.executableURL = Self.executable
        process.arguments = ["serve"]
        process.environment = self.environment
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let output = try FileHandle(forWritingTo: logFile)
        process.standardOutput = output
        process.standardError = output
        try process.run()
    }

    public var base: String { "http://127.0.0.1:\(port)" }

    public struct NotHealthy: Error {}

    /// Up to 30 s: the whole suite runs in parallel on two cores.
    public func waitUntilHealthy() async throws {
        for _ in 0..<300 {
            if let (_, response) = try? await URLSession.shared.data(from: URL(string: "\(base)/health")!),
                (response as? HTTPURLResponse)?.statusCode == 200
            {
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw NotHealthy()
    }

    /// A JSON request, with a bearer token when given: the status and the JSON object answered.
    public func call(_ path: String, _ json: [String: any Sendable], bearer: String? = nil) async throws -> (status: Int, json: [String: Any]) {
        var request = URLRequest(url: URL(string: "\(base)\(path)")!)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        if let bearer { request.setValue("Bearer \(bearer)", forHTTPHeaderField: "Authorization") }
        request.httpBody = try JSONSerialization.data(withJSONObject: json)
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as! HTTPURLResponse).statusCode, (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:])
    }

    public func post(_ path: String, _ json: [String: String]) async throws -> Int {
        try await call(path, json).status
    }

    /// The `/metrics` text.
    public func metrics() async throws -> String {
        String(decoding: try await URLSession.shared.data(from: URL(string: "\(base)/metrics")!).0, as: UTF8.self)
    }

    /// Runs a `latchkey` command on the same configuration: its exit status and standard output.
    public func command(_ arguments: [String], environment extra: [String: String] = [:]) throws -> (status: Int32, stdout: String) {
        let command = Process()
        let output = Pipe()
        command.executableURL = Self.executable
        command.arguments = arguments
        command.environment = environment.merging(extra) { $1 }
        command.standardOutput = output
        command.standardError = FileHandle.nullDevice
        try command.run()
        let stdout = output.fileHandleForReading.readDataToEndOfFile()
        command.waitUntilExit()
        return (command.terminationStatus, String(decoding: stdout, as: UTF8.self))
    }

    public func terminate() {
        kill(process.processIdentifier, SIGTERM)
    }

    public func waitForExit() async throws -> Int32 {
        for _ in 0..<100 where process.isRunning { try await Task.sleep(for: .milliseconds(100)) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        return process.terminationStatus
    }

    public var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    deinit {
        try? FileManager.default.removeItem(at: logFile)
    }
}
