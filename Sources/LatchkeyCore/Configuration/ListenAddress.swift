import Configuration

/// Where the server listens. Mail links default to this address, so a first run's links reach the server itself.
///
/// Keys (under `latchkey.`): `host`, `port`.
public struct ListenAddress: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080

    public init() {}

    public init(reader: ConfigReader) throws {
        host = reader.text("host") ?? host
        port = try reader.integer("port", default: port, in: 0...65535)
    }

    /// `http://host:port`; a wildcard host (`0.0.0.0`, `::`) becomes `localhost`, an IPv6 address gets brackets.
    public var url: String {
        let name =
            switch host {
            case "0.0.0.0", "::", "[::]", "*": "localhost"
            case let address where address.contains(":") && !address.hasPrefix("["): "[\(address)]"
            default: host
            }
        return "http://\(name):\(port)"
    }
}
