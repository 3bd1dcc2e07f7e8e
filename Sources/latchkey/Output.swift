import Foundation
import LatchkeyAPI

/// Columns for people, each as wide as its widest cell; no trailing blanks. Control characters (from what clients
/// sent: names, user agents) are shown as U+FFFD, so that no cell can drive the terminal.
enum Table {
    static func print(header: [String], rows: [[String]]) {
        let rows = rows.map { $0.map(printable) }
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        for line in [header] + rows {
            let padded = zip(line.dropLast(), widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }
            Swift.print((padded + [line.last ?? ""]).joined(separator: "  "))
        }
    }

    private static func printable(_ cell: String) -> String {
        String(String.UnicodeScalarView(cell.unicodeScalars.map { $0.properties.generalCategory == .control ? "\u{FFFD}" : $0 }))
    }
}

/// One JSON object per line, for scripts: the wire format's dates, sorted keys.
enum JSONLines {
    static func print(_ rows: [some Encodable]) {
        let encoder = WireFormat.makeEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        for row in rows { Swift.print((try? encoder.encode(row)).map { String(decoding: $0, as: UTF8.self) } ?? "{}") }
    }
}
