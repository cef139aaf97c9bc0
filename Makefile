# gitsign: keyless git signing. `make demo` and `make test` do all set-up.
SHELL := /bin/bash
GO ?= go
STACK := hack/sigstore-local

.PHONY: all build demo test unit e2e lint stack-up stack-down clean

all: build

# Static, as the release builds are (.goreleaser.yml): with cgo the binary
# loads libc through the dynamic linker, about 1 ms more per process, and
# git starts one gitsign process per signature.
build:
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/gitsign ./cmd/gitsign
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/gitsign-credential-cache ./cmd/gitsign-credential-cache

## demo: bring up the local Sigstore stack and sign and check a commit and a tag.
demo: build stack-up
	$(STACK) exec hack/demo

## test: lint, a check of the release config, unit tests (here, then in a
## fresh clone of HEAD), a brief run of each fuzz target, then the
## end-to-end tests through real git against the stack.
test: lint release-check unit test-clone fuzz-smoke e2e

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
## (hack/fuzz finds them), after the whole mutation sweep (make sweep);
## fuzz-smoke: each target briefly (part of test).
.PHONY: fuzz fuzz-smoke
FUZZTIME ?= 30s
fuzz: sweep
	GO=$(GO) FUZZTIME=$(FUZZTIME) hack/fuzz

fuzz-smoke:
	GO=$(GO) FUZZTIME=2s hack/fuzz

stack-up:
	$(STACK) up

stack-down:
	$(STACK) down

clean:
	rm -rf bin build dist

## man: man pages generated from the command definitions and the settings
## table (build/man/*.1, and gitsign-allowed-signers.5);
## VERSION=v1.2.3 names the release in their footer. The date is
## SOURCE_DATE_EPOCH, else the last commit's.
## completions: bash, zsh, fish and PowerShell completion scripts for gitsign
## and gitsign-credential-cache (build/completions/).
.PHONY: man completions
man:
	rm -rf build/man
	$(GO) run ./hack/gendocs -man build/man $(if $(VERSION),-version $(VERSION))

completions:
	rm -rf build/completions
	$(GO) run ./hack/gendocs -completions build/completions

## docs: docs/configuration.md again from internal/config's settings table
## (committed; a unit test fails when it is stale).
.PHONY: docs
docs:
	$(GO) run ./hack/gendocs -config-md docs/configuration.md

## bench: every benchmark of issue 12 as a ratio to its reference measured
## in the same run, each target MET or MISSED (hack/bench/README.md).
## BENCH_QUICK=1 takes few samples (a smoke test). The first run starts the
## local stack and signs the ranges it verifies (1,000 and 10,000 commits
## under one login, 150 with a login each; a few minutes), cached in
## hack/.stack/bench/.
.PHONY: bench
bench:
	GO=$(GO) hack/bench/run

## release: a snapshot release into dist/ with goreleaser (.goreleaser.yml):
## archives, checksums.txt, SPDX SBOMs, deb/rpm/apk packages; nothing is
## published. release-check: `goreleaser check` and a build of the module
## for each release OS (part of test).
## release-test: the snapshot, then checks of what it made.
## goreleaser and syft are installed on first use into hack/.tools/.
.PHONY: release release-check release-test
TOOLS := $(CURDIR)/hack/.tools
GORELEASER_VERSION := v2.15.1
SYFT_VERSION := v1.57.1
GORELEASER := $(TOOLS)/goreleaser@$(GORELEASER_VERSION)/goreleaser
SYFT := $(TOOLS)/syft@$(SYFT_VERSION)/syft
TOOL_INSTALL = GOBIN=$(@D) GOFLAGS= GOTOOLCHAIN=local $(GO) install

$(GORELEASER):
	$(TOOL_INSTALL) github.com/goreleaser/goreleaser/v2@$(GORELEASER_VERSION)

# syft names itself (and its version) in every SBOM it writes.
$(SYFT):
	$(TOOL_INSTALL) -ldflags=-X=main.version=$(SYFT_VERSION:v%=%) github.com/anchore/syft/cmd/syft@$(SYFT_VERSION)

# goreleaser reads the commit, its date and the tags only if git names a
# remote; a clone without one is given the project's for this run alone
# (through git's environment, nothing is written).
RELEASE_GIT_ENV = $(if $(shell git ls-remote --get-url 2>/dev/null),,GIT_CONFIG_COUNT=1 \
	GIT_CONFIG_KEY_0=remote.origin.url GIT_CONFIG_VALUE_0=https://github.com/gitsign-dev/gitsign.git)

release: $(GORELEASER) $(SYFT)
	$(RELEASE_GIT_ENV) PATH="$(dir $(SYFT)):$$PATH" $(GORELEASER) release --snapshot --clean

# release-check also compiles the module for each release OS (the code has
# nothing per architecture; `make release` builds every platform), as the
# release builds do: RELEASE_CHECK_PLATFORMS="os/arch ..." to change.
RELEASE_CHECK_PLATFORMS ?= linux/amd64 darwin/amd64 freebsd/amd64 windows/amd64
release-check: $(GORELEASER)
	$(GORELEASER) check
	@set -e; for p in $(RELEASE_CHECK_PLATFORMS); do \
		echo "go build ./... for $$p"; \
		GOOS=$${p%/*} GOARCH=$${p#*/} CGO_ENABLED=0 $(GO) build -trimpath ./...; \
	done

release-test:
	MAKE=$(MAKE) hack/release-test

## test-clone: the unit tests in a fresh clone of the committed HEAD, to
## catch tests that need files git does not have (part of test).
.PHONY: test-clone
test-clone:
	GO=$(GO) hack/test-clone

## sweep: the whole mutation sweep (verify/sweep_test.go): every byte of
## every vector's signature changed six ways, and every field of its CMS,
## log entry, checkpoint and timestamp token changed, dropped and
## duplicated; each must be refused but the variants the README lists.
## make test runs all but the bytes, and a sample of those.
.PHONY: sweep
sweep:
	GITSIGN_SWEEP=full $(GO) test -count=1 -timeout 60m -run 'TestSweep|TestNewBundleDifferential' ./verify/
