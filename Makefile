# runlog — the two commands users need are `make run` and `make test`.

GO ?= go

.PHONY: run test vet fmt-check unit bench help

## run: run the example pipeline on the embedded local store and print its logs
run:
	$(GO) run ./examples/pipeline

## test: vet, format check and the whole test suite with the race detector
test: vet fmt-check
	$(GO) test -race -count=1 ./...

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

## unit: the tests without the race detector (faster)
unit:
	$(GO) test ./...

## bench: benchmarks with ratios against their baselines (see bench/)
bench:
	./bench/run.sh

help:
	@grep -E '^## ' Makefile | sed 's/^## //'
