import Configuration

/// Where the server listens. Mail links default to this address, so a first run's links reach the server itself.
///
/// Keys (under `latchkey.`): `host`, `port`.
public struct ListenAddress: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080

    public init() {}

    public init(reader: ConfigReader) throws {
        host = reader.text("host", default: host) ?? host
        port = try reader.integer("port", default: port, in: 0...65535)
    }

    /// `http://host:port`. A wildcard or loopback host (`0.0.0.0`, `::`, `127.0.0.0/8`, `::1`) becomes `localhost`:
    /// browsers treat it as a secure context, and WebAuthn takes it as a relying party, which an IP address is not.
    public var url: String {
        let wildcardOrLoopback = ["0.0.0.0", "::", "[::]", "*", "::1", "[::1]"].contains(host)
        let ipv4Loopback = host.hasPrefix("127.") && host.split(separator: ".").count == 4
        return wildcardOrLoopback || ipv4Loopback ? "http://localhost:\(port)" : literalURL
    }

    /// The URLs a browser reaches the server by: `url`, and the host as it is written (`http://127.0.0.1:8080`).
    public var urls: Set<String> { [url, literalURL] }

    /// `http://host:port`, an IPv6 address in brackets.
    private var literalURL: String {
        "http://\(host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host):\(port)"
    }
}
