import Configuration
import Foundation
import LatchkeyCore

/// Passkeys: the relying party, and the native apps that may use its passkeys.
///
/// Keys (under `latchkey.`): `webauthn.rpId` (default: the app URL's host), `webauthn.rpName` (default: `productName`),
/// `webauthn.origins` (comma-separated; default: the app URL's origin), `webauthn.userVerification`, `appleAppIds`
/// (`TEAMID.bundle.id`, comma-separated), `androidApps` (`package=FINGERPRINT`, comma-separated).
public struct PasskeyConfiguration: Sendable {
    public enum UserVerification: String, CaseIterable, Sendable {
        case preferred
        case required
    }

    /// An Android app and its signing certificates' SHA-256 fingerprints, as colon-separated upper-case hex.
    public struct AndroidApp: Sendable, Equatable {
        public var package: String
        public var fingerprints: [String]
    }

    public let relyingParty: RelyingParty
    public let userVerification: UserVerification
    public let appleAppIDs: [String]
    public let androidApps: [AndroidApp]
    /// A sentence for the log at start-up when the rp id is an IP address, which browsers refuse.
    public let warning: String?

    public init(reader: ConfigReader, appURL: String) throws {
        let appHost = URLComponents(string: appURL)?.host?.lowercased() ?? "localhost"
        let rpID = (reader.text("webauthn.rpId") ?? appHost).lowercased()
        guard !rpID.isEmpty, rpID.allSatisfy({ $0.isLetter || $0.isNumber || "-.:[]".contains($0) }), !rpID.contains("..") else {
            throw ConfigurationError(key: "webauthn.rpId", "must be a host name such as example.com, not '\(rpID)'")
        }
        let origins = try Self.origins(reader.text("webauthn.origins"), appURL: appURL, rpID: rpID)
        userVerification = try reader.choice("webauthn.userVerification", default: UserVerification.preferred)
        relyingParty = RelyingParty(
            id: rpID,
            name: reader.text("webauthn.rpName") ?? reader.productName,
            origins: origins,
            requiresUserVerification: userVerification == .required
        )
        appleAppIDs = try Self.list(reader.text("appleAppIds")).map { id in
            // `TEAMID.bundle.id`: a ten-character team id, then the bundle id.
            let parts = id.split(separator: ".", maxSplits: 1)
            guard parts.count == 2, parts[0].count == 10, parts[0].allSatisfy({ $0.isASCII && ($0.isUppercase || $0.isNumber) }),
                parts[1].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-.".contains($0)) })
            else { throw ConfigurationError(key: "appleAppIds", "must list TEAMID.bundle.id entries (ABCDE12345.com.example.app), not '\(id)'") }
            return id
        }
        androidApps = try Self.androidApps(Self.list(reader.text("androidApps")))
        let isAddress = rpID.contains(":") || rpID.split(separator: ".").allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isNumber) }
        warning =
            isAddress
            ? "LATCHKEY_WEBAUTHN_RP_ID is the IP address \(rpID): browsers refuse passkeys for an IP address; use a host name (localhost in development)"
            : nil
    }

    private static func list(_ text: String?) -> [String] {
        (text ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// Web origins must be the origin they name (no path) and on the rp id or below it, as browsers require; Android
    /// apps' origins are taken as written.
    private static func origins(_ text: String?, appURL: String, rpID: String) throws -> Set<String> {
        guard let text else { return Set([ServerConfiguration.origin(of: appURL)].compactMap { $0 }) }
        return Set(
            try list(text).map { origin in
                if origin.hasPrefix("android:apk-key-hash:") { return origin }
                guard let normalized = ServerConfiguration.origin(of: origin), normalized == origin.lowercased(),
                    let host = URLComponents(string: normalized)?.host, host == rpID || host.hasSuffix("." + rpID)
                else {
                    throw ConfigurationError(
                        key: "webauthn.origins",
                        "must list origins such as https://\(rpID) (on the rp id \(rpID) or below it) or android:apk-key-hash:…, not '\(origin)'"
                    )
                }
                return normalized
            }
        )
    }

    /// `package=FINGERPRINT` entries, a `SHA256:` prefix dropped; a package listed twice has both fingerprints.
    private static func androidApps(_ entries: [String]) throws -> [AndroidApp] {
        var apps: [AndroidApp] = []
        for entry in entries {
            let parts = entry.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            var hex = parts.count == 2 ? parts[1] : ""
            if hex.uppercased().hasPrefix("SHA256:") { hex.removeFirst("SHA256:".count) }
            hex = hex.replacingOccurrences(of: ":", with: "").uppercased()
            guard parts.count == 2, !parts[0].isEmpty, hex.count == 64, hex.allSatisfy(\.isHexDigit) else {
                throw ConfigurationError(
                    key: "androidApps",
                    "must list package=SHA-256 fingerprint entries (com.example.app=AB:CD:…), not '\(entry)'"
                )
            }
            let fingerprint = stride(from: 0, to: 64, by: 2).map { String(Array(hex)[$0..<$0 + 2]) }.joined(separator: ":")
            if let index = apps.firstIndex(where: { $0.package == parts[0] }) {
                if !apps[index].fingerprints.contains(fingerprint) { apps[index].fingerprints.append(fingerprint) }
            } else {
                apps.append(AndroidApp(package: parts[0], fingerprints: [fingerprint]))
            }
        }
        return apps
    }
}
