import Glibc
import NIOHTTP1
import TigStore

/// The one error type of the HTTP front: why a request is answered with an
/// error, and whether the connection must close after it (a body that will
/// not be read, a byte stream that can no longer be trusted).
///
/// Every other error is mapped to a status here and nowhere else.
struct HTTPFailure: Error {
    let status: HTTPResponseStatus
    let closesConnection: Bool

    init(_ status: HTTPResponseStatus, closesConnection: Bool = false) {
        self.status = status
        self.closesConnection = closesConnection
    }

    /// The answer to an error thrown while serving: a full file system is
    /// the client's to retry later (507), running out of file descriptors is
    /// this pod's overload (503), anything else is ours (500).
    init(_ error: any Error) {
        switch error {
        case let failure as HTTPFailure:
            self = failure
        case IncomingBlock.Failure.tooLarge:
            self.init(.payloadTooLarge, closesConnection: true)
        case let error as StoreError where error.isOutOfSpace:
            self.init(.insufficientStorage)
        case let error as StoreError where error.code == EMFILE || error.code == ENFILE:
            self.init(.serviceUnavailable)
        default:
            self.init(.internalServerError)
        }
    }

    /// Errors the front expects (refusals) are not logged; the rest are.
    var isUnexpected: Bool {
        status == .internalServerError || status == .serviceUnavailable || status == .insufficientStorage
    }
}
