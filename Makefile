# The two commands of the README: `make serve` and `make test`.
.PHONY: serve test deps release

deps:
	scripts/install-deps.sh

release: deps
	scripts/stamp-revision.sh
	swift build -c release --product tig

# Builds (release) and runs one server: http://0.0.0.0:7777, data in /data
# if it exists, else /tmp; pass more flags with ARGS="--retention 1h".
serve: release
	.build/release/tig serve $(ARGS)

test:
	scripts/test.sh
