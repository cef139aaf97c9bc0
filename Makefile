# gitsign: keyless git signing. `make demo` and `make test` do all set-up.
SHELL := /bin/bash
GO ?= go
STACK := hack/sigstore-local

.PHONY: all build demo test unit e2e lint stack-up stack-down clean

all: build

build:
	$(GO) build -trimpath -o bin/gitsign ./cmd/gitsign
	$(GO) build -trimpath -o bin/gitsign-credential-cache ./cmd/gitsign-credential-cache

## demo: bring up the local Sigstore stack and sign and check a commit and a tag.
demo: build stack-up
	$(STACK) exec hack/demo

## test: unit tests, a brief run of each fuzz target, then the end-to-end
## tests through real git against the stack.
test: lint unit fuzz-smoke e2e

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed: $$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags e2e ./internal/e2e/

unit:
	$(GO) test -count=1 ./...

e2e: stack-up
	hack/install-test-deps
	$(GO) mod download
	$(GO) test -tags e2e -c -o /dev/null ./internal/e2e/
	eval "$$($(STACK) env)" && GOPROXY=off GOFLAGS=-mod=readonly $(STACK) exec $(GO) test -count=1 -timeout 20m -tags e2e ./internal/e2e/

## fuzz: every fuzz target in the module, one at a time, FUZZTIME each
## (hack/fuzz finds them); fuzz-smoke: the same, briefly (part of test).
.PHONY: fuzz fuzz-smoke
FUZZTIME ?= 30s
fuzz:
	GO=$(GO) FUZZTIME=$(FUZZTIME) hack/fuzz

fuzz-smoke:
	GO=$(GO) FUZZTIME=2s hack/fuzz

stack-up:
	$(STACK) up

stack-down:
	$(STACK) down

clean:
	rm -rf bin

## bench: performance benchmarks and their ratios (hack/bench/README.md).
## The first run signs 1,000 commits on the local stack and caches them.
.PHONY: bench
bench:
	hack/bench/run
