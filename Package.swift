// swift-tools-version:6.2
import PackageDescription

let package = Package(
    name: "tig",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "tig", targets: ["tig"]),
        .executable(name: "tig-operator", targets: ["tig-operator"]),
        .executable(name: "tig-fuzz", targets: ["tig-fuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // OpenSSL's libcrypto: SHA-256 (EVP) for block addresses.
        .systemLibrary(name: "COpenSSLCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        // The source revision, stamped in by scripts/stamp-revision.sh.
        .target(name: "CTigBuildInfo"),
        // What the executables share: flag types, duration text, logfmt logs, signals, build info.
        .target(
            name: "TigCommandLine",
            dependencies: [
                "CTigBuildInfo",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Block addresses and SHA-256: what servers and clients share.
        .target(name: "TigAddress", dependencies: ["COpenSSLCrypto"]),
        // Linux file-system calls Swift cannot import directly (O_TMPFILE, linkat of an fd).
        .target(name: "CTigSystem"),
        .target(
            name: "TigStore",
            dependencies: [
                "TigAddress", "CTigSystem",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .target(
            name: "TigHTTP",
            dependencies: [
                "TigStore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .target(
            name: "TigCluster",
            dependencies: [
                "TigAddress", "TigStore", "TigHTTP",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The client: HTTP to tig servers, chunking, trees, keepalive, XOR split.
        .target(
            name: "TigClient",
            dependencies: [
                "TigAddress",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "tig",
            dependencies: [
                "TigAddress", "TigStore", "TigHTTP", "TigCluster", "TigClient", "TigCommandLine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // libcurl: the operator's HTTP client (Kubernetes API, pod /metrics).
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        // Typed wrappers for curl_easy_setopt/getinfo, which are C variadics Swift cannot call.
        .target(name: "CCurlShim", dependencies: ["CCurl"]),
        // libyaml: the operator's config file and kubeconfig.
        .systemLibrary(name: "CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        // The pure Mitosis scaling policy: no I/O, no clock of its own.
        .target(name: "Mitosis"),
        .target(
            name: "KubeClient",
            dependencies: [
                "CCurl", "CCurlShim", "CYAML",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "TigOperator",
            dependencies: [
                "Mitosis", "KubeClient", "TigCommandLine",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .executableTarget(
            name: "tig-operator",
            dependencies: [
                "TigOperator", "TigCommandLine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The fuzz target of the front's parsers (scripts/sanitize.sh): libFuzzer's
        // when built with -sanitize=fuzzer -DFUZZING, else a corpus replayer.
        .executableTarget(
            name: "tig-fuzz",
            dependencies: ["TigAddress", "TigHTTP", "TigStore", .product(name: "NIOHTTP1", package: "swift-nio")],
            swiftSettings: [.enableExperimentalFeature("Extern")]
        ),
        .testTarget(name: "TigCommandLineTests", dependencies: ["TigCommandLine"]),
        .testTarget(name: "TigAddressTests", dependencies: ["TigAddress", "TigStore"]),
        .testTarget(name: "TigStoreTests", dependencies: ["TigStore", "TigAddress"]),
        .testTarget(
            name: "TigHTTPTests",
            dependencies: [
                "TigHTTP", "TigStore", "TigAddress",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "TigClusterTests",
            dependencies: [
                "TigCluster", "TigHTTP", "TigAddress", "TigStore",
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "MitosisTests", dependencies: ["Mitosis"]),
        .testTarget(name: "KubeClientTests", dependencies: ["KubeClient"]),
        .testTarget(name: "TigOperatorTests", dependencies: ["TigOperator", "KubeClient", "Mitosis"]),
        // The real tig-operator and tig binaries against the API emulator (e2e/kubeapi), in child processes.
        .testTarget(
            name: "OperatorIntegrationTests",
            dependencies: ["KubeClient", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(name: "TigClientTests", dependencies: ["TigClient", "TigAddress"]),
    ],
    swiftLanguageModes: [.v6]
)
