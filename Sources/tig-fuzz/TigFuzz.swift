// The fuzz target of the HTTP front's parsers (`scripts/sanitize.sh`).
//
// Built with `-sanitize=fuzzer,address -DFUZZING`, `main` hands the harness
// to libFuzzer's driver, so every libFuzzer flag and corpus directory
// applies. In a normal build (`swift build` builds every product) the same
// binary replays inputs: each file given, or every file of each directory
// given, goes once through the same harness; a crash is a finding to fix.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

#if FUZZING
/// libFuzzer's entry point for a program with its own `main`: SwiftPM links
/// every executable's `main` to its module's (`tig_fuzz_main`), so
/// libFuzzer's own `main` never runs.
@_extern(c, "LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt
#endif

/// The harness under libFuzzer's conventional name, for tools that drive a
/// fuzz target by it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    Harness.run(size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

@main
enum TigFuzz {
    static func main() {
        #if FUZZING
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzOneInput(data, size) })
        #else
        replay(Array(CommandLine.arguments.dropFirst()))
        #endif
    }

    static func replay(_ arguments: [String]) {
        guard !arguments.isEmpty else {
            FileHandle.standardError.write(Data("usage: tig-fuzz FILE|DIR... (replays each input through the parsers)\n".utf8))
            exit(2)
        }
        var files: [String] = []
        for argument in arguments {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory) else {
                FileHandle.standardError.write(Data("tig-fuzz: \(argument): no such file\n".utf8))
                exit(2)
            }
            if isDirectory.boolValue {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: argument)) ?? []
                files += names.sorted().map { argument + "/" + $0 }
            } else {
                files.append(argument)
            }
        }
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else {
                FileHandle.standardError.write(Data("tig-fuzz: \(file): cannot read\n".utf8))
                exit(2)
            }
            Harness.run(Array(data))
        }
        print("tig-fuzz: \(files.count) inputs replayed, no crash")
    }
}
