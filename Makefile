# runlog — the two commands users need are `make run` and `make test`.

GO ?= go

.PHONY: run test install servers node browser vet fmt-check unit bench help

## run: run the example pipeline on the embedded local store and print its logs
run:
	$(GO) run ./examples/pipeline

## test: vet, format check, build the test servers, install the Node.js producer's npm packages and Chromium if missing, and the whole suite with the race detector
##       (each package is named when it starts, with how long it took last time; a line every 30 s says what still runs)
test: vet fmt-check servers node browser
	@echo "test: go test -race ./... against real VictoriaLogs and collectors (about 8 minutes on 2 cores)"
	RUNLOG_REQUIRE_SERVERS=1 $(GO) run ./tools/testprogress -race -count=1 -timeout 30m ./...

## install: go install ./cmd/runlog (into `go env GOBIN`, else `go env GOPATH`/bin; put it on your PATH)
install:
	$(GO) install ./cmd/runlog
	@echo "installed runlog in $$($(GO) env GOBIN | grep . || echo $$($(GO) env GOPATH)/bin)"

## servers: build VictoriaLogs, vlogscli and the OpenTelemetry Collector into the cache (once)
servers:
	tools/servers.sh build

## node: install the npm packages (OpenTelemetry JS SDK) of tools/nodeproducer, a Node.js step the tests run, into the cache (once)
node:
	tools/node.sh install

## browser: install Debian's Chromium for the viewer's browser tests, if missing (once)
browser:
	tools/chromium.sh

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

## unit: the tests without the race detector and the servers (faster)
unit:
	$(GO) test -short ./...

## bench: one table of every performance figure, each a ratio to its baseline in the same run, median of COUNT=5
##        (QUICK=1: small sizes, one run, a few minutes; the full run takes about an hour, SKIP=10M 11 minutes; see docs/performance.md)
bench:
	./bench/run.sh summary

help:
	@grep -E '^## ' Makefile | sed 's/^## //'
