import Foundation
import LatchkeyCore

/// An RFC 5322 message with a text and an HTML part (multipart/alternative, UTF-8, base64 bodies).
struct MIMEMessage {
    let mail: OutgoingMail
    let from: String

    var text: String {
        let boundary = "latchkey-\(mail.id.uuidString.lowercased())"
        let headers = [
            "Date: \(Self.dateFormatter.string(from: mail.createdAt))",
            "Message-ID: \(mail.messageID)",
            "From: \(from)",
            "To: <\(mail.to)>",
            "Subject: \(Self.encodedWord(mail.subject))",
            "MIME-Version: 1.0",
            "Content-Type: multipart/alternative; boundary=\"\(boundary)\"",
        ]
        let parts = [("text/plain", mail.text), ("text/html", mail.html)].map { type, body in
            """
            --\(boundary)\r
            Content-Type: \(type); charset=utf-8\r
            Content-Transfer-Encoding: base64\r
            \r
            \(Data(body.utf8).base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed]))\r

            """
        }
        return headers.joined(separator: "\r\n") + "\r\n\r\n" + parts.joined() + "--\(boundary)--\r\n"
    }

    /// The message as DATA sends it: CRLF lines, a leading dot doubled (RFC 5321 4.5.2).
    var dotStuffed: String {
        text.components(separatedBy: "\r\n").map { $0.hasPrefix(".") ? "." + $0 : $0 }.joined(separator: "\r\n")
    }

    /// `Name <a@b>` → `a@b`.
    static func address(_ mailbox: String) -> String {
        guard let open = mailbox.lastIndex(of: "<"), let close = mailbox.lastIndex(of: ">"), open < close else { return mailbox }
        return String(mailbox[mailbox.index(after: open)..<close])
    }

    /// Non-ASCII subjects as an RFC 2047 encoded word.
    static func encodedWord(_ text: String) -> String {
        text.allSatisfy(\.isASCII) ? text : "=?UTF-8?B?\(Data(text.utf8).base64EncodedString())?="
    }

    static let dateFormatter: DateFormatter = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        return formatter
    }()
}
