import Mustache

/// HTML escaping for every template (mails and pages), registered as swift-mustache's `HTML` content type: templates
/// start with `{{% CONTENT_TYPE: HTML}}`. swift-mustache's own escaper compares whole grapheme clusters, so a quote
/// followed by a combining mark (`"\u{301}`), or `<` after a prepended letter (`\u{D4E}<`), slips through unescaped;
/// this one looks at every Unicode scalar.
public struct HTMLEscaping: MustacheContentType {
    public init() {}

    public func escapeText(_ text: String) -> String {
        var escaped = ""
        escaped.unicodeScalars.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "&": escaped += "&amp;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }

    /// Registers the escaper; call before any template is parsed.
    public static let registered: Void = MustacheContentTypes.register(HTMLEscaping(), named: "HTML")
}
