/// A QR code (ISO/IEC 18004) for an `otpauth://` URI: byte mode, error correction level M, the smallest version
/// (1–40) that holds the bytes, and the mask with the lowest penalty by the standard's four rules. No QR package exists
/// in our mirror; this is the part of the standard that an authenticator app's scanner needs, and nothing more.
/// `scripts/test` proves it with an independent decoder (zxing-cpp).
public struct QRCode: Sendable, Equatable {
    /// 1 to 40.
    public let version: Int
    /// Modules per side: `17 + 4 × version`.
    public let size: Int
    /// 0 to 7: the mask that scored lowest.
    public let mask: Int
    /// `modules[y][x]`, true for dark.
    public let modules: [[Bool]]

    /// Bytes beyond what version 40 at level M holds.
    public struct TooLong: Error, Equatable {
        public let bytes: Int
    }

    /// The most bytes a code holds: version 40, level M, byte mode.
    public static let capacity = dataCodewords(version: 40) - 3

    public init(_ text: String) throws(TooLong) {
        try self.init(bytes: Array(text.utf8))
    }

    public init(bytes: [UInt8]) throws(TooLong) {
        guard let version = (1...40).first(where: { Self.bits(forBytes: bytes.count, version: $0) <= Self.dataCodewords(version: $0) * 8 })
        else { throw TooLong(bytes: bytes.count) }
        var grid = Grid(version: version)
        grid.drawFunctionPatterns()
        grid.drawCodewords(Self.interleaved(Self.dataCodewords(for: bytes, version: version), version: version))
        var best: (mask: Int, grid: Grid, penalty: Int)?
        for mask in 0..<8 {
            var candidate = grid
            candidate.apply(mask: mask)
            candidate.drawFormatBits(mask: mask)
            let penalty = candidate.penalty
            if penalty < best?.penalty ?? .max { best = (mask, candidate, penalty) }
        }
        self.version = version
        self.size = grid.size
        self.mask = best!.mask
        self.modules = best!.grid.modules
    }

    /// An SVG of the code with its quiet zone of 4 modules, one unit per module, black on white: the dark modules of a
    /// row are drawn as runs, so the document stays small.
    public var svg: String {
        let side = size + 8
        var path = ""
        for (y, row) in modules.enumerated() {
            var x = 0
            while x < size {
                guard row[x] else {
                    x += 1
                    continue
                }
                let start = x
                while x < size, row[x] { x += 1 }
                path += "M\(start + 4) \(y + 4)h\(x - start)v1h-\(x - start)z"
            }
        }
        return ##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \##(side) \##(side)" shape-rendering="crispEdges">"##
            + ##"<path fill="#fff" d="M0 0h\##(side)v\##(side)H0z"/><path fill="#000" d="\##(path)"/></svg>"##
    }

    // MARK: - Data

    /// Mode indicator, count and data, in bits.
    private static func bits(forBytes count: Int, version: Int) -> Int {
        4 + countBits(version: version) + 8 * count
    }

    private static func countBits(version: Int) -> Int { version <= 9 ? 8 : 16 }

    /// Byte mode (0100), the count, the bytes, the terminator and the padding, as codewords.
    private static func dataCodewords(for bytes: [UInt8], version: Int) -> [UInt8] {
        let capacity = dataCodewords(version: version) * 8
        var bits: [Bool] = []
        func append(_ value: Int, _ count: Int) {
            for index in stride(from: count - 1, through: 0, by: -1) { bits.append((value >> index) & 1 == 1) }
        }
        append(0b0100, 4)
        append(bytes.count, countBits(version: version))
        for byte in bytes { append(Int(byte), 8) }
        append(0, min(4, capacity - bits.count))
        append(0, (8 - bits.count % 8) % 8)
        var codewords = stride(from: 0, to: bits.count, by: 8).map { start in
            bits[start..<start + 8].reduce(UInt8(0)) { $0 << 1 | ($1 ? 1 : 0) }
        }
        for pad in [UInt8(0xEC), 0x11].cycled(count: capacity / 8 - codewords.count) { codewords.append(pad) }
        return codewords
    }

    // MARK: - Error correction (level M)

    /// Error-correction codewords per block, and blocks, at level M, by version (index 0 unused).
    private static let eccPerBlock = [
        0, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26,
        26, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28,
    ]
    private static let blocks = [
        0, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16,
        17, 17, 18, 20, 21, 23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49,
    ]

    /// The modules that hold codewords: all but the function patterns.
    static func rawDataModules(version: Int) -> Int {
        var modules = (16 * version + 128) * version + 64
        if version >= 2 {
            let alignments = version / 7 + 2
            modules -= (25 * alignments - 10) * alignments - 55
            if version >= 7 { modules -= 36 }
        }
        return modules
    }

    static func dataCodewords(version: Int) -> Int {
        rawDataModules(version: version) / 8 - eccPerBlock[version] * blocks[version]
    }

    /// The data split into blocks, each followed by its Reed–Solomon codewords, then read across the blocks.
    private static func interleaved(_ data: [UInt8], version: Int) -> [UInt8] {
        let (blockCount, eccLength) = (blocks[version], eccPerBlock[version])
        let raw = rawDataModules(version: version) / 8
        let shortBlocks = blockCount - raw % blockCount
        let shortLength = raw / blockCount
        let divisor = ReedSolomon.divisor(degree: eccLength)
        var blocks: [[UInt8]] = []
        var start = 0
        for index in 0..<blockCount {
            let length = shortLength - eccLength + (index < shortBlocks ? 0 : 1)
            let chunk = Array(data[start..<start + length])
            start += length
            // Short blocks get a placeholder, skipped below, so that every block has the same length.
            blocks.append(chunk + (index < shortBlocks ? [0] : []) + ReedSolomon.remainder(chunk, divisor: divisor))
        }
        var result: [UInt8] = []
        for column in 0..<blocks[0].count {
            for (index, block) in blocks.enumerated() where column != shortLength - eccLength || index >= shortBlocks {
                result.append(block[column])
            }
        }
        return result
    }

    /// Reed–Solomon over GF(2⁸) with the QR polynomial x⁸ + x⁴ + x³ + x² + 1.
    enum ReedSolomon {
        static func multiply(_ x: UInt8, _ y: UInt8) -> UInt8 {
            var product = 0
            for bit in stride(from: 7, through: 0, by: -1) {
                product = (product << 1) ^ ((product >> 7) * 0x11D)
                product ^= Int((y >> bit) & 1) * Int(x)
            }
            return UInt8(product)
        }

        /// The generator polynomial's coefficients, highest first, the leading 1 left out.
        static func divisor(degree: Int) -> [UInt8] {
            var result = [UInt8](repeating: 0, count: degree)
            result[degree - 1] = 1
            var root: UInt8 = 1
            for _ in 0..<degree {
                for index in 0..<degree {
                    result[index] = multiply(result[index], root)
                    if index + 1 < degree { result[index] ^= result[index + 1] }
                }
                root = multiply(root, 0x02)
            }
            return result
        }

        static func remainder(_ data: [UInt8], divisor: [UInt8]) -> [UInt8] {
            var result = [UInt8](repeating: 0, count: divisor.count)
            for byte in data {
                let factor = byte ^ result.removeFirst()
                result.append(0)
                for index in result.indices { result[index] ^= multiply(divisor[index], factor) }
            }
            return result
        }
    }

    // MARK: - The grid

    struct Grid {
        let version: Int
        let size: Int
        var modules: [[Bool]]
        /// Finder, separator, timing, alignment, format and version modules: never data, never masked.
        var isFunction: [[Bool]]

        init(version: Int) {
            self.version = version
            size = 17 + 4 * version
            modules = Array(repeating: Array(repeating: false, count: size), count: size)
            isFunction = modules
        }

        mutating func set(x: Int, y: Int, _ dark: Bool) {
            modules[y][x] = dark
            isFunction[y][x] = true
        }

        mutating func drawFunctionPatterns() {
            for index in 0..<size {
                set(x: 6, y: index, index % 2 == 0)
                set(x: index, y: 6, index % 2 == 0)
            }
            for (x, y) in [(3, 3), (size - 4, 3), (3, size - 4)] {
                for dy in -4...4 {
                    for dx in -4...4 where (0..<size).contains(x + dx) && (0..<size).contains(y + dy) {
                        let distance = max(abs(dx), abs(dy))
                        set(x: x + dx, y: y + dy, distance != 2 && distance != 4)
                    }
                }
            }
            let positions = alignmentPositions
            for (i, x) in positions.enumerated() {
                for (j, y) in positions.enumerated() {
                    // Not over the three finders.
                    let last = positions.count - 1
                    if (i == 0 && j == 0) || (i == 0 && j == last) || (i == last && j == 0) { continue }
                    for dy in -2...2 {
                        for dx in -2...2 { set(x: x + dx, y: y + dy, max(abs(dx), abs(dy)) != 1) }
                    }
                }
            }
            drawFormatBits(mask: 0)  // reserves the modules; the chosen mask's bits are drawn later
            if version >= 7 {
                var remainder = version
                for _ in 0..<12 { remainder = (remainder << 1) ^ ((remainder >> 11) * 0x1F25) }
                let bits = version << 12 | remainder
                for index in 0..<18 {
                    let dark = (bits >> index) & 1 == 1
                    let (a, b) = (size - 11 + index % 3, index / 3)
                    set(x: a, y: b, dark)
                    set(x: b, y: a, dark)
                }
            }
        }

        /// The centres of the alignment patterns along each axis.
        var alignmentPositions: [Int] {
            guard version > 1 else { return [] }
            let count = version / 7 + 2
            let step = (version * 8 + count * 3 + 5) / (count * 4 - 4) * 2
            return [6] + (0..<(count - 1)).map { size - 7 - $0 * step }.reversed()
        }

        /// Level M (00) and the mask, with their BCH code, in both copies; and the dark module.
        mutating func drawFormatBits(mask: Int) {
            let data = mask  // level M is 00
            var remainder = data
            for _ in 0..<10 { remainder = (remainder << 1) ^ ((remainder >> 9) * 0x537) }
            let bits = (data << 10 | remainder) ^ 0x5412
            func bit(_ index: Int) -> Bool { (bits >> index) & 1 == 1 }
            for index in 0...5 { set(x: 8, y: index, bit(index)) }
            set(x: 8, y: 7, bit(6))
            set(x: 8, y: 8, bit(7))
            set(x: 7, y: 8, bit(8))
            for index in 9..<15 { set(x: 14 - index, y: 8, bit(index)) }
            for index in 0..<8 { set(x: size - 1 - index, y: 8, bit(index)) }
            for index in 8..<15 { set(x: 8, y: size - 15 + index, bit(index)) }
            set(x: 8, y: size - 8, true)
        }

        /// The codewords in the zigzag order: two-module columns from the right, up and down in turn, the vertical
        /// timing column skipped.
        mutating func drawCodewords(_ codewords: [UInt8]) {
            var index = 0
            var right = size - 1
            while right >= 1 {
                if right == 6 { right = 5 }
                for vertical in 0..<size {
                    for offset in 0..<2 {
                        let x = right - offset
                        let upward = (right + 1) & 2 == 0
                        let y = upward ? size - 1 - vertical : vertical
                        guard !isFunction[y][x], index < codewords.count * 8 else { continue }
                        modules[y][x] = (codewords[index >> 3] >> (7 - (index & 7))) & 1 == 1
                        index += 1
                    }
                }
                right -= 2
            }
        }

        mutating func apply(mask: Int) {
            for y in 0..<size {
                for x in 0..<size where !isFunction[y][x] {
                    let invert =
                        switch mask {
                        case 0: (x + y) % 2 == 0
                        case 1: y % 2 == 0
                        case 2: x % 3 == 0
                        case 3: (x + y) % 3 == 0
                        case 4: (x / 3 + y / 2) % 2 == 0
                        case 5: x * y % 2 + x * y % 3 == 0
                        case 6: (x * y % 2 + x * y % 3) % 2 == 0
                        default: ((x + y) % 2 + x * y % 3) % 2 == 0
                        }
                    if invert { modules[y][x].toggle() }
                }
            }
        }

        /// The standard's penalty (ISO/IEC 18004 §7.8.3): runs of five or more of a colour in a line, 2×2 blocks of a
        /// colour, finder-like 1:1:3:1:1 patterns with four light modules on a side, and the share of dark modules
        /// away from half.
        var penalty: Int {
            let columns = (0..<size).map { x in modules.map { $0[x] } }
            var score = 0
            for line in modules + columns {
                var run = 1
                for index in 1..<size {
                    if line[index] == line[index - 1] {
                        run += 1
                        if index == size - 1, run >= 5 { score += 3 + run - 5 }
                    } else {
                        if run >= 5 { score += 3 + run - 5 }
                        run = 1
                    }
                }
                score += 40 * Self.finderLikePatterns(in: line)
            }
            for y in 0..<(size - 1) {
                for x in 0..<(size - 1) {
                    let color = modules[y][x]
                    if modules[y][x + 1] == color, modules[y + 1][x] == color, modules[y + 1][x + 1] == color { score += 3 }
                }
            }
            let dark = modules.reduce(0) { $0 + $1.filter { $0 }.count }
            let total = size * size
            score += 10 * ((abs(dark * 20 - total * 10) + total - 1) / total - 1)
            return score
        }

        /// Dark-light-dark×3-light-dark with four light modules before or after it; outside the code counts as light.
        static func finderLikePatterns(in line: [Bool]) -> Int {
            let core = [true, false, true, true, true, false, true]
            func isLight(_ range: Range<Int>) -> Bool { range.allSatisfy { !line.indices.contains($0) || !line[$0] } }
            var count = 0
            for start in 0...(line.count - core.count) where line[start..<start + core.count].elementsEqual(core) {
                if isLight((start - 4)..<start) || isLight((start + 7)..<(start + 11)) { count += 1 }
            }
            return count
        }
    }
}

extension Array {
    /// `count` elements, going round this array.
    fileprivate func cycled(count: Int) -> [Element] {
        (0..<count).map { self[$0 % self.count] }
    }
}
