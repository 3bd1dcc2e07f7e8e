import Foundation
import Mustache

/// Renders the account mails from the Mustache templates in `Resources/Mail` (a text and an HTML part each),
/// sealed for the outbox.
public struct MailComposer: Sendable {
    let library: MustacheLibrary
    let configuration: MailConfiguration
    let sealer: MailSealer

    public init(configuration: MailConfiguration, sealer: MailSealer) async throws {
        guard let directory = Bundle.module.resourceURL?.appending(path: "Mail").path else {
            throw AuthError(.internalError, "mail templates are missing")
        }
        HTMLEscaping.registered
        self.library = try await MustacheLibrary(directory: directory)
        self.configuration = configuration
        self.sealer = sealer
    }

    public func verification(to user: User, token: String, validFor seconds: Int, now: Date) throws -> SealedMail {
        let values = ["link": link("verify-email", token), "validFor": Self.describe(seconds)]
        return try compose("verify-email", to: user, subject: "Confirm your email address", now: now, values: values)
    }

    public func passwordReset(to user: User, token: String, validFor seconds: Int, now: Date) throws -> SealedMail {
        let values = ["link": link("reset-password", token), "validFor": Self.describe(seconds)]
        return try compose("reset-password", to: user, subject: "Reset your password", now: now, values: values)
    }

    public func passwordChanged(to user: User, now: Date) throws -> SealedMail {
        try compose("password-changed", to: user, subject: "Your password was changed", now: now, values: [:])
    }

    /// `86400` → "24 hours", `1800` → "30 minutes".
    static func describe(_ seconds: Int) -> String {
        let (amount, unit) =
            seconds >= 3600 && seconds % 3600 == 0
            ? (seconds / 3600, "hour") : seconds >= 60 && seconds % 60 == 0 ? (seconds / 60, "minute") : (seconds, "second")
        return "\(amount) \(unit)\(amount == 1 ? "" : "s")"
    }

    private func link(_ path: String, _ token: String) -> String {
        var base = configuration.appURL
        while base.hasSuffix("/") { base.removeLast() }
        return "\(base)/auth/\(path)?token=\(token)"
    }

    private func compose(_ template: String, to user: User, subject: String, now: Date, values: [String: String]) throws -> SealedMail {
        var context = values
        context["name"] = user.name
        context["email"] = user.email
        context["appUrl"] = configuration.appURL
        let id = UUID()
        let mail = OutgoingMail(
            id: id,
            to: user.email,
            subject: subject,
            text: library.render(context, withTemplate: "\(template).text") ?? "",
            html: library.render(context, withTemplate: "\(template).html") ?? "",
            messageID: "<\(id.uuidString.lowercased())@\(configuration.senderDomain)>",
            createdAt: now
        )
        return try sealer.seal(mail)
    }
}
