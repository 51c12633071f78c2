# tig container image: `tig` (server and client) and `tig-operator` on a slim
# Debian runtime.
#
#   docker build --build-arg TIG_REVISION=$(git rev-parse --short=12 HEAD) -t tig:0.1.0 .
#   docker run --rm -p 7777:7777 -p 9090:9090 --mount type=tmpfs,destination=/data,tmpfs-size=1g tig:0.1.0
#
# The Swift runtime and Foundation are linked into the executables
# (--static-swift-stdlib), so the runtime stage holds no toolchain files, only
# the C libraries the code calls: OpenSSL (SHA-256, TLS), libcurl (the
# operator's Kubernetes API client) and libyaml (its config and kubeconfig).
# Dockerfile.runtime builds the same runtime from executables built elsewhere;
# checks/packaging.sh keeps the two runtime contracts identical.

# Swift 6.2 or newer (Package.swift's tools version) on Debian 12, the runtime's release.
FROM swift:6.2-bookworm AS build
# Headers and pkg-config files of the system libraries the package links.
RUN apt-get update \
 && apt-get install -y --no-install-recommends pkg-config libssl-dev libcurl4-openssl-dev libyaml-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Dependencies first: this layer is reused until the manifest changes.
COPY Package.* ./
RUN swift package resolve
COPY Sources ./Sources
COPY scripts/stamp-revision.sh ./scripts/
# No .git in the build context: the revision comes in as a build argument
# (`--build-arg TIG_REVISION=$(git rev-parse --short=12 HEAD)`).
ARG TIG_REVISION=unknown
# Not built, but SwiftPM refuses a package whose declared test targets lack their folders.
COPY Tests ./Tests
RUN TIG_REVISION="$TIG_REVISION" scripts/stamp-revision.sh \
 && swift build -c release --static-swift-stdlib \
 && install -D -m 0755 -t /out/usr/local/bin .build/release/tig .build/release/tig-operator
# The operator's default config, read when no --config is given.
COPY operator/config.yaml /out/etc/tig-operator/config.yaml

FROM debian:bookworm-slim AS runtime
LABEL org.opencontainers.image.title="tig" \
      org.opencontainers.image.description="Content-addressed, self-cleaning HTTP block store, and its Mitosis operator"
# Runtime libraries only, and the unprivileged user the server runs as; /data
# is the data directory (a tmpfs emptyDir in Kubernetes, SPEC §4).
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libcurl4 libssl3 libyaml-0-2 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 65532 tig \
 && useradd --uid 65532 --gid 65532 --no-log-init --no-create-home --home-dir /data --shell /usr/sbin/nologin tig \
 && install -d -o 65532 -g 65532 -m 0700 /data
COPY --from=build /out/ /
USER 65532:65532
EXPOSE 7777 443 9090
ENTRYPOINT ["tig"]
CMD ["serve"]
