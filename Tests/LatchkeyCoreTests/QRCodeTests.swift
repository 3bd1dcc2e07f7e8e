import Foundation
import Testing

@testable import LatchkeyCore

/// The QR encoder: sizes and capacities from the standard's tables, the function patterns, the format bits of the
/// chosen mask, and codes an independent decoder (zxing-cpp) reads back.
@Suite struct QRCodeTests {
    /// The most bytes each version holds at level M in byte mode (ISO/IEC 18004 Table 7), and the next byte needs the
    /// next version.
    @Test(arguments: [
        (1, 14), (2, 26), (3, 42), (4, 62), (5, 84), (6, 106), (7, 122), (8, 152), (9, 180), (10, 213), (13, 331), (14, 362), (20, 666), (27, 1125),
        (33, 1628), (40, 2331),
    ])
    func eachVersionHoldsWhatTheStandardSays(version: Int, bytes: Int) throws {
        #expect(try QRCode(bytes: Array(repeating: 0x61, count: bytes)).version == version)
        if version < 40 { #expect(try QRCode(bytes: Array(repeating: 0x61, count: bytes + 1)).version > version) }
    }

    @Test func moreThanVersion40HoldsIsRefused() {
        #expect(throws: QRCode.TooLong(bytes: QRCode.capacity + 1)) { try QRCode(bytes: Array(repeating: 0x61, count: QRCode.capacity + 1)) }
        #expect(QRCode.capacity == 2331)
    }

    /// Codewords per version (Table 1): 26, 44, 196 and 3,706.
    @Test func rawDataModules() {
        #expect([1, 2, 7, 40].map { QRCode.rawDataModules(version: $0) / 8 } == [26, 44, 196, 3706])
    }

    /// The worked example of version 1-M ("HELLO WORLD" in alphanumeric mode): its 16 data codewords get these 10
    /// error-correction codewords.
    @Test func reedSolomonMatchesTheWorkedExample() {
        let data: [UInt8] = [32, 91, 11, 120, 209, 114, 220, 77, 67, 64, 236, 17, 236, 17, 236, 17]
        #expect(
            QRCode.ReedSolomon.remainder(data, divisor: QRCode.ReedSolomon.divisor(degree: 10)) == [196, 35, 39, 119, 235, 215, 231, 226, 93, 23]
        )
    }

    @Test func finderPatternsTimingAndFormatBits() throws {
        let code = try QRCode("otpauth://totp/Latchkey:ada%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=Latchkey")
        #expect(code.size == 17 + 4 * code.version && code.modules.count == code.size)
        for (x, y) in [(0, 0), (code.size - 7, 0), (0, code.size - 7)] {
            let ring = (0..<7).map { code.modules[y][x + $0] } + (0..<7).map { code.modules[y + 6][x + $0] }
            #expect(ring.allSatisfy { $0 })
            #expect(code.modules[y + 3][x + 3] && !code.modules[y + 1][x + 1])
        }
        #expect((8..<(code.size - 8)).allSatisfy { code.modules[6][$0] == ($0 % 2 == 0) })
        // The format bits around the top-left finder, read back: level M (00) and the chosen mask, with a valid BCH code.
        let first =
            (0...5).map { code.modules[$0][8] } + [code.modules[7][8], code.modules[8][8], code.modules[8][7]]
            + (9..<15).map { code.modules[8][14 - $0] }
        let bits = first.enumerated().reduce(0) { $0 | ($1.element ? 1 << $1.offset : 0) } ^ 0x5412
        #expect(bits >> 13 == 0 && (bits >> 10) & 7 == code.mask)
        var remainder = bits >> 10
        for _ in 0..<10 { remainder = (remainder << 1) ^ ((remainder >> 9) * 0x537) }
        #expect(bits & 0x3FF == remainder)
        #expect(code.svg.hasPrefix(#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \#(code.size + 8) \#(code.size + 8)""#))
    }

    /// Codes of every size an account may need, up to the ~400 bytes of a 254-byte email with a long product name,
    /// and the largest, rendered and read by zxing-cpp (`Tests/Support/qr_decode.py`).
    @Test func anIndependentDecoderReadsThemBack() throws {
        let email =
            String(repeating: "a", count: 64) + "%40" + String(repeating: "b", count: 63) + "." + String(repeating: "c", count: 60) + ".example"
        let product = "Latchkey%20Enterprise%20Single%20Sign-On%20for%20the%20Whole%20Company"
        var payloads = [
            "long-uri":
                "otpauth://totp/\(product):\(email)?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=\(product)&algorithm=SHA1&digits=6&period=30"
        ]
        for (version, bytes) in [(1, 14), (2, 26), (5, 84), (7, 122), (10, 213), (14, 362), (20, 666), (27, 1125), (33, 1628), (40, 2331)] {
            payloads["v\(version)"] = (0..<bytes).map { String(UnicodeScalar(UInt8(0x21 + $0 % 94))) }.joined()
        }
        let directory = FileManager.default.temporaryDirectory.appending(path: "latchkey-qr-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for (name, text) in payloads { try QRCode(text).svg.write(to: directory.appending(path: "\(name).svg"), atomically: true, encoding: .utf8) }
        #expect(try QRCode(payloads["long-uri"]!).version >= 10)

        let script = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appending(path: "Support/qr_decode.py")
        let process = Process()
        process.executableURL = URL(filePath: "/usr/bin/env")
        process.arguments = ["python3", script.path, directory.path]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "qr_decode.py failed: are zxing-cpp, cairosvg and pillow installed (scripts/test does it)?")
        let decoded = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        for (name, text) in payloads { #expect(decoded[name] as? String == text, "\(name)") }
    }
}
