// libFuzzer's entry for the CBOR reader, compiled by `scripts/fuzz` together with Sources/LatchkeyParsers: any input
// must give an item or a CBORError, never a crash, a hang or a large allocation.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    _ = try? CBORReader.decode(input)
    // The prefix reader too, as authenticator data uses it.
    var reader = CBORReader(input)
    while reader.offset < input.count, (try? reader.read()) != nil {}
    return 0
}
