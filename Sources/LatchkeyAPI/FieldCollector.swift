/// Decodes request fields one by one and collects every problem, so a bad body is answered with
/// all its faulty fields at once instead of the first one `Decodable` trips over.
public struct FieldCollector<Key: CodingKey> {
    private let container: KeyedDecodingContainer<Key>
    private var errors: [FieldError] = []

    /// Fails (with a `FieldErrors` naming the body) when the JSON is not an object.
    public init(_ decoder: any Decoder, keyedBy: Key.Type) throws {
        do {
            self.container = try decoder.container(keyedBy: Key.self)
        } catch {
            throw FieldErrors([FieldError(field: "body", message: "must be a JSON object")])
        }
    }

    /// A required string; records "is required" or "must be a string" and returns "" on failure.
    public mutating func required(_ key: Key) -> String {
        optional(key, missing: "is required") ?? ""
    }

    /// An optional string: absent or `null` gives nil; any other non-string is recorded.
    public mutating func optional(_ key: Key) -> String? {
        optional(key, missing: nil)
    }

    /// An optional boolean: absent or `null` gives nil; any other non-boolean is recorded.
    public mutating func optionalBool(_ key: Key) -> Bool? {
        optional(key, missing: nil, as: Bool.self, typeName: "a boolean")
    }

    /// A required JSON value of a `Decodable` type (a WebAuthn response): records "is required" or "must be \(typeName)".
    public mutating func required<Value: Decodable>(_ key: Key, as type: Value.Type, typeName: String) -> Value? {
        optional(key, missing: "is required", as: type, typeName: typeName)
    }

    private mutating func optional<Value: Decodable>(
        _ key: Key,
        missing: String?,
        as type: Value.Type = String.self,
        typeName: String = "a string"
    )
        -> Value?
    {
        if !container.contains(key) || ((try? container.decodeNil(forKey: key)) ?? false) {
            if let missing { errors.append(FieldError(field: key.stringValue, message: missing)) }
            return nil
        }
        if let value = try? container.decode(Value.self, forKey: key) { return value }
        errors.append(FieldError(field: key.stringValue, message: "must be \(typeName)"))
        return nil
    }

    /// Throws `FieldErrors` if any field was missing or wrongly typed.
    public func finish() throws {
        if !errors.isEmpty { throw FieldErrors(errors) }
    }
}
