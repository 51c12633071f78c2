import TigAddress

/// Everything the client refuses or fails at, worded for the person at the
/// terminal: the CLI prints `description` and exits non-zero.
public enum TigClientError: Error, Equatable, CustomStringConvertible {
    /// A content block whose bytes do not hash to its address.
    case corrupt(BlockAddress, server: String)
    case notFound(BlockAddress, server: String)
    case unauthorized(server: String)
    case tooLarge(BlockAddress?, server: String)
    case unexpectedStatus(UInt, method: String, server: String)
    /// The server answered a write with a path other than the bytes' hash.
    case wrongAnswer(expected: BlockAddress, answered: String, server: String)
    case unreachable(server: String, reason: String)
    case badServerURL(String)
    case system(operation: String, path: String, errno: Int32)
    /// A block that should be a tree manifest, file block or share
    /// descriptor but is not one; `reason` says what is wrong.
    case malformed(what: String, reason: String)
    /// The stored tree or shares disagree with themselves (sizes, counts).
    case inconsistent(String)
    case notADirectory(String)
    case destinationNotEmpty(String)
    case unsupportedFileType(String)
    case invalidArgument(String)
    /// One XOR share could not be read; `problem` says why.
    case share(number: Int, of: Int, server: String, problem: String)

    public var description: String {
        switch self {
        case .corrupt(let address, let server):
            "\(address) from \(server) is corrupt: its bytes do not hash to its path"
        case .notFound(let address, let server):
            "\(address) is not stored on \(server)"
        case .unauthorized(let server):
            "\(server) refused the write: missing or wrong API key (--apikey or TIG_APIKEY)"
        case .tooLarge(let address, let server):
            if let address {
                "\(address) on \(server) is larger than this client reads into memory"
            } else {
                "\(server) refused the block as larger than its --max-block-size (tig push stores large files in chunks)"
            }
        case .unexpectedStatus(let code, let method, let server):
            "\(server) answered \(method) with status \(code)"
        case .wrongAnswer(let expected, let answered, let server):
            "\(server) stored the block as \(answered.isEmpty ? "(empty answer)" : answered), expected \(expected)"
        case .unreachable(let server, let reason):
            "cannot reach \(server): \(reason)"
        case .badServerURL(let url):
            "\(url) is not a server URL: expected http://HOST:PORT or https://HOST[:PORT]"
        case .system(let operation, let path, let errno):
            "cannot \(operation) \(path): \(SystemErrorText.describe(errno))"
        case .malformed(let what, let reason):
            "not a valid \(what): \(reason)"
        case .inconsistent(let reason):
            "inconsistent data: \(reason)"
        case .notADirectory(let path):
            "\(path) is not a directory"
        case .destinationNotEmpty(let path):
            "\(path) exists and is not an empty directory"
        case .unsupportedFileType(let path):
            "\(path) is neither a regular file, a directory nor a symbolic link"
        case .invalidArgument(let reason):
            reason
        case .share(let number, let count, let server, let problem):
            "share \(number) of \(count) (on \(server)) is unusable, and every share is needed to join: \(problem)"
        }
    }
}

extension TigClientError {
    /// The exit status of a command that failed with this error, so scripts
    /// can tell a missing block from a corrupt one from a server that is
    /// down (docs/CLIENT.md lists them; usage errors exit 64).
    public var exitCode: Int32 {
        switch self {
        case .notFound: 2
        case .corrupt, .wrongAnswer, .malformed, .inconsistent, .share: 3
        case .unreachable: 4
        case .unauthorized: 5
        case .tooLarge, .unexpectedStatus: 6
        case .badServerURL, .invalidArgument: 64
        case .system, .notADirectory, .destinationNotEmpty, .unsupportedFileType: 1
        }
    }
}
