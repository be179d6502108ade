import SyncProtocol

/// libFuzzer's entry point: arbitrary bytes through exactly what the hub does with a push body
/// before its store sees it (`PushBody.changes`): inflate when it is gzip (the hub goes by
/// `Content-Encoding`; here the gzip magic number decides, so both paths are explored), decode
/// the JSON `PushRequest`, expand and check the change groups. Refusing is fine; trapping is
/// the bug. Built and run by Deploy/fuzz-push.sh, outside `swift build`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPushBody(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    let gzipped = bytes.count >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b
    // 1 MiB instead of the hub's 64: the same code path, and a bomb costs the fuzzer less.
    _ = try? PushBody.changes(from: bytes, contentEncoding: gzipped ? "gzip" : nil, maxExpandedBytes: 1 << 20)
    return 0
}
