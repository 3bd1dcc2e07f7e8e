import Foundation

/// Checks JSON that `JSONDecoder` would accept for what it silently lets through: a member name that
/// appears twice in one object (decoders disagree on which one wins, so a proxy or firewall may read
/// another value than we do) and bytes that are not UTF-8. Request bodies and JWT segments go through it.
public enum StrictJSON {
    /// True when `bytes` are UTF-8 and no object in them names a member twice. Escaped names count by
    /// their decoded value (`"a"` and `"\u0061"` are the same name). Malformed JSON is left to the decoder.
    public static func isStrict(_ bytes: some Collection<UInt8>) -> Bool {
        let bytes = Array(bytes)
        guard String(validating: bytes, as: UTF8.self) != nil else { return false }
        return memberNames(bytes).allSatisfy { Set($0).count == $0.count }
    }

    /// The member names of every object in `bytes`, one list per object.
    static func memberNames(_ bytes: [UInt8]) -> [[String]] {
        // One entry per open object or array: the names seen so far, or nil for an array.
        var open: [[String]?] = []
        var closed: [[String]] = []
        var expectingName = false
        var index = 0
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "{"):
                open.append([])
                expectingName = true
            case UInt8(ascii: "["):
                open.append(nil)
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if let names = open.popLast() ?? nil { closed.append(names) }
                expectingName = false
            case UInt8(ascii: ","):
                expectingName = open.last.map { $0 != nil } ?? false
            case UInt8(ascii: "\""):
                let end = endOfString(bytes, from: index)
                if expectingName, var names = open.last ?? nil {
                    let literal = bytes[index..<min(end + 1, bytes.count)]
                    // Only a name with an escape needs decoding to be compared; the others are their bytes between the quotes.
                    let name =
                        literal.contains(UInt8(ascii: "\\"))
                        ? try? JSONDecoder().decode(String.self, from: Data(literal))
                        : String(decoding: literal.dropFirst().dropLast(), as: UTF8.self)
                    names.append(name ?? String(decoding: literal, as: UTF8.self))
                    open[open.count - 1] = names
                    expectingName = false
                }
                index = end
            default:
                break
            }
            index += 1
        }
        return closed + open.compactMap { $0 }
    }

    /// The index of the quote that closes the string opening at `start`.
    private static func endOfString(_ bytes: [UInt8], from start: Int) -> Int {
        var index = start + 1
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\\"): index += 2
            case UInt8(ascii: "\""): return index
            default: index += 1
            }
        }
        return index
    }
}
