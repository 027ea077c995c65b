import Foundation

/// `AirlockFuzz TARGET PATH...` replays inputs (files, or directories of them) through a target, as
/// the test suite does; `--list` prints the targets. Built with `-DFUZZING` and
/// `-sanitize=fuzzer,address` (see `fuzz/run`), it is libFuzzer instead, fuzzing the target named by
/// `AIRLOCK_FUZZ_TARGET` and taking libFuzzer's arguments.
@main
struct AirlockFuzz {
    static func main() throws {
        #if FUZZING
            var argc = CommandLine.argc
            var argv = CommandLine.unsafeArgv
            exit(
                LLVMFuzzerRunDriver(&argc, &argv) { data, size in
                    selectedTarget(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
                    return 0
                })
        #else
            try replay(Array(CommandLine.arguments.dropFirst()))
        #endif
    }

    static func replay(_ args: [String]) throws {
        if args.first == "--list" {
            print(FuzzTargets.all.keys.sorted().joined(separator: "\n"))
            return
        }
        guard let name = args.first, let target = FuzzTargets.all[name] else {
            FileHandle.standardError.write(
                Data("usage: AirlockFuzz TARGET PATH... (targets: \(FuzzTargets.all.keys.sorted().joined(separator: ", ")))\n".utf8))
            exit(2)
        }
        var count = 0
        for path in args.dropFirst() {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
            let files = isDirectory.boolValue ? try FileManager.default.contentsOfDirectory(atPath: path).sorted().map { path + "/" + $0 } : [path]
            for file in files {
                target([UInt8](try Data(contentsOf: URL(fileURLWithPath: file))))
                count += 1
            }
        }
        print("\(name): \(count) inputs replayed")
    }
}

#if FUZZING
    /// libFuzzer's driver, for programs that keep their own `main`.
    @_silgen_name("LLVMFuzzerRunDriver")
    func LLVMFuzzerRunDriver(
        _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
        _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
    ) -> CInt

    let selectedTarget: @Sendable ([UInt8]) -> Void = {
        let name = ProcessInfo.processInfo.environment["AIRLOCK_FUZZ_TARGET"] ?? ""
        guard let target = FuzzTargets.all[name] else {
            fatalError("set AIRLOCK_FUZZ_TARGET to one of: \(FuzzTargets.all.keys.sorted().joined(separator: ", "))")
        }
        return target
    }()
#endif
