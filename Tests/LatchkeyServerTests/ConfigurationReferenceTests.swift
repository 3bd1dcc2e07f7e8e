import Configuration
import Foundation
import LatchkeyServer
import Synchronization
import Testing

@testable import LatchkeyCore

/// `.env.example` and `docs/configuration.md` held to the code: every variable that reading the configuration asks
/// for is in both, with the default the code reports (`ConfigReader.text(_:default:)`), and neither lists another.
@Suite struct ConfigurationReferenceTests {
    @Test func envExampleAndTheReferenceListEveryVariableWithItsDefault() async throws {
        let read = try await Self.variablesTheCodeReads()
        #expect(read.count > 40)
        let root = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let documents = [
            (".env.example", Self.envExample(try String(contentsOf: root.appending(path: ".env.example"), encoding: .utf8))),
            ("docs/configuration.md", Self.reference(try String(contentsOf: root.appending(path: "docs/configuration.md"), encoding: .utf8))),
        ]
        for (name, listed) in documents {
            #expect(Set(listed.keys).subtracting(read.keys).sorted() == [], "\(name) lists what the code does not read")
            #expect(Set(read.keys).subtracting(listed.keys).sorted() == [], "\(name) misses what the code reads")
            for (variable, codeDefault) in read {
                guard let codeDefault, let listedDefault = listed[variable] else { continue }
                #expect(
                    listedDefault.map { Self.same($0, codeDefault) } == true,
                    "\(name): \(variable) defaults to \(codeDefault), not \(listedDefault ?? "nothing")"
                )
            }
        }
    }

    /// Where the OpenAPI document, the README or a page of `docs/` names a variable with its default
    /// (`LATCHKEY_NAME (default V)` or `LATCHKEY_NAME, default V`), the default is the code's.
    @Test(arguments: ["Sources/LatchkeyServer/Resources/openapi.json", "README.md", "docs/operating.md", "docs/libraries.md", "docs/browsers.md"])
    func statedDefaultsAreTheCodes(_ path: String) async throws {
        let read = try await Self.variablesTheCodeReads()
        let root = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appending(path: path), encoding: .utf8)
        let stated = text.matches(of: /(LATCHKEY_[A-Z_]+)`?(?:,| \() ?default ([^ ),;`]+)/).map { (String($0.1), String($0.2)) }
        for (variable, listed) in stated {
            #expect(read.keys.contains(variable), "\(path): \(variable) is not read by the code")
            guard let codeDefault = read[variable] ?? nil else { continue }
            #expect(Self.same(listed, codeDefault), "\(path): \(variable) defaults to \(codeDefault), not \(listed)")
        }
    }

    /// Each variable read with an empty configuration, and the default the code reported for it (nil: none, or one that
    /// depends on other settings).
    static func variablesTheCodeReads() async throws -> [String: String?] {
        let recorder = Recorder()
        _ = try await LatchkeyConfiguration(reader: ConfigReader(provider: InMemoryProvider(values: [:]), accessReporter: recorder))
        return recorder.read.withLock { $0 }
    }

    /// `NAME=default` lines, and `# NAME=example` lines for variables without a fixed default.
    static func envExample(_ text: String) -> [String: String?] {
        var listed: [String: String?] = [:]
        for line in text.split(separator: "\n") {
            let commented = line.hasPrefix("# LATCHKEY_")
            guard line.hasPrefix("LATCHKEY_") || commented, let equals = line.firstIndex(of: "=") else { continue }
            let name = line[line.index(line.startIndex, offsetBy: commented ? 2 : 0)..<equals]
            listed[String(name)] = commented ? String?.none : String(line[line.index(after: equals)...])
        }
        return listed
    }

    /// The rows `| LATCHKEY_NAME | default | meaning |` of the reference's tables.
    static func reference(_ text: String) -> [String: String?] {
        var listed: [String: String?] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("| LATCHKEY_") {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            listed[cells[1]] = cells[2].trimmingCharacters(in: CharacterSet(charactersIn: "`"))
        }
        return listed
    }

    /// The same setting: the same text, or the same duration (`60s` and `1m`) or flag (`off` and `false`).
    static func same(_ listed: String, _ code: String) -> Bool {
        if listed == code { return true }
        if let listed = Duration.seconds(parsing: listed), let code = Duration.seconds(parsing: code) { return listed == code }
        let flags = ["true": true, "on": true, "yes": true, "false": false, "off": false, "no": false]
        if let listed = flags[listed.lowercased()], let code = flags[code.lowercased()] { return listed == code }
        return false
    }

    final class Recorder: AccessReporter {
        let read = Mutex<[String: String?]>([:])

        func report(_ event: AccessEvent) {
            let key = event.metadata.key.components.dropFirst().joined(separator: ".")  // without `latchkey.`
            var reported: String?
            if case .success(let value) = event.result, case .string(let text)? = value?.content { reported = text }
            read.withLock { read in
                let variable = ConfigurationError.variableName(key)
                // A key read twice (`login.freeFailures`: `off`, then a number) keeps the default it was given.
                read[variable] = (read[variable] ?? nil) ?? reported
            }
        }
    }
}
