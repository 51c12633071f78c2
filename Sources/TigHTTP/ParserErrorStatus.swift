import NIOCore
import NIOHTTP1

/// Answers the two parser errors whose status is not 400 before NIO's
/// `HTTPServerProtocolErrorHandler` answers every other one with 400: a head
/// over the parser's bound gets 431 (RFC 6585) and a method the parser does
/// not know gets 501 (RFC 9110 §9.1). Either way the connection closes.
///
/// Sits just before NIO's handler, so it sees the errors first and the
/// responses on their way out (an answer can only be sent when none is under
/// way).
final class ParserErrorStatus: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private var responseUnderWay = false

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let status: HTTPResponseStatus
        switch error as? HTTPParserError {
        case .headerOverflow?: status = .requestHeaderFieldsTooLarge
        case .invalidMethod?: status = .notImplemented
        default: return context.fireErrorCaught(error)
        }
        guard !responseUnderWay else { return context.fireErrorCaught(error) }
        let headers = HTTPHeaders([("connection", "close"), ("content-length", "0"), ("x-content-type-options", "nosniff")])
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.close(promise: nil)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head) where head.status.code >= 200: responseUnderWay = true
        case .end: responseUnderWay = false
        default: break
        }
        context.write(data, promise: promise)
    }
}
