# gitsign: keyless git signing. `make demo` and `make test` do all set-up.
SHELL := /bin/bash
GO ?= go
STACK := hack/sigstore-local

.PHONY: all build demo test unit e2e lint stack-up stack-down clean

all: build

# Static, as the release builds are (.goreleaser.yml): with cgo the binary
# loads libc through the dynamic linker, about 1 ms more per process, and
# git starts one gitsign process per signature. Stamped, as the release
# builds are, with the version (git describe: the last tag, commits since,
# commit, -dirty), the commit and its date (UTC) that --version prints.
# Outside a git work tree nothing is stamped and internal/buildinfo falls
# back to what the Go toolchain recorded. GIT_OPTIONAL_LOCKS=0: reading the
# state never takes the index lock.
BUILDINFO := github.com/gitsign-dev/gitsign/internal/buildinfo
GIT_COMMIT := $(shell GIT_OPTIONAL_LOCKS=0 git rev-parse --verify --quiet HEAD 2>/dev/null)
BUILD_LDFLAGS := $(if $(GIT_COMMIT),\
	-X $(BUILDINFO).Version=$(shell GIT_OPTIONAL_LOCKS=0 git describe --tags --always --dirty 2>/dev/null) \
	-X $(BUILDINFO).Commit=$(GIT_COMMIT) \
	-X $(BUILDINFO).Date=$(shell TZ=UTC git log -1 --date=format-local:%Y-%m-%dT%H:%M:%SZ --format=%cd $(GIT_COMMIT) --))
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(BUILD_LDFLAGS)" -o bin/gitsign ./cmd/gitsign
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(BUILD_LDFLAGS)" -o bin/gitsign-credential-cache ./cmd/gitsign-credential-cache

## install: both binaries, their man pages and bash, zsh and fish
## completions, the systemd user units (the service starting
## $(PREFIX)/bin/gitsign-credential-cache), LICENSE and README.md, into
## $(DESTDIR)$(PREFIX) (hack/install lists where). uninstall: removes them.
## install-test: an install into a temporary DESTDIR, checked (part of test).
.PHONY: install uninstall install-test
PREFIX ?= /usr/local
DESTDIR ?=
install: build man completions
	DESTDIR="$(DESTDIR)" PREFIX="$(PREFIX)" hack/install

uninstall: man
	DESTDIR="$(DESTDIR)" PREFIX="$(PREFIX)" hack/install --uninstall

install-test:
	MAKE="$(MAKE)" hack/install-test

## demo: bring up the local Sigstore stack and sign and check a commit and a tag.
demo: build stack-up
	$(STACK) exec hack/demo

## test: lint, a check of the release config, unit tests (here, then in a
## fresh clone of HEAD), make install checked, a brief run of each fuzz
## target, then the end-to-end tests through real git against the stack.
test: lint release-check unit test-clone install-test fuzz-smoke e2e

# lint: gofmt, go vet, and no build output or large file committed
# (hack/lintfiles).
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed: $$out"; exit 1; fi
	$(GO) run ./hack/lintfiles
	$(GO) vet ./...
	$(GO) vet -tags e2e ./internal/e2e/

unit:
	$(GO) test -count=1 ./...

# The reference implementation (sigstore/gitsign, pinned in
# hack/reference-gitsign) is built on first use into hack/.tools/, for the
# tests that run its own `gitsign attest` (about 570 CPU-seconds cold).
e2e: stack-up
	hack/install-test-deps
	GO=$(GO) hack/reference-gitsign >/dev/null
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
## published or signed. release-check: `goreleaser check` and a build of
## the module for each release OS (part of test).
## release-test: the snapshot with checksums.txt signed on the local
## Sigstore stack, then checks of what it made, the signature verified by
## cosign. release-publish: the real release, for the release workflow
## (.github/workflows/release.yml) on a tag: published as a draft, signed.
## goreleaser, syft and cosign are installed on first use into hack/.tools/.
.PHONY: release release-check release-test release-publish
TOOLS := $(CURDIR)/hack/.tools
GORELEASER_VERSION := v2.15.1
SYFT_VERSION := v1.57.1
COSIGN_VERSION := v3.1.3
GORELEASER := $(TOOLS)/goreleaser@$(GORELEASER_VERSION)/goreleaser
SYFT := $(TOOLS)/syft@$(SYFT_VERSION)/syft
COSIGN := $(TOOLS)/cosign@$(COSIGN_VERSION)/cosign
TOOL_INSTALL = GOBIN=$(@D) GOFLAGS= GOTOOLCHAIN=local $(GO) install

$(GORELEASER):
	$(TOOL_INSTALL) github.com/goreleaser/goreleaser/v2@$(GORELEASER_VERSION)

# syft names itself (and its version) in every SBOM it writes.
$(SYFT):
	$(TOOL_INSTALL) -ldflags=-X=main.version=$(SYFT_VERSION:v%=%) github.com/anchore/syft/cmd/syft@$(SYFT_VERSION)

# cosign signs checksums.txt (.goreleaser.yml, signs) and, in release-test,
# verifies the signature (about 2 minutes to build on 2 cores).
$(COSIGN):
	$(TOOL_INSTALL) github.com/sigstore/cosign/v3/cmd/cosign@$(COSIGN_VERSION)

# goreleaser reads the commit, its date and the tags only if git names a
# remote; a clone without one is given the project's for this run alone
# (through git's environment, nothing is written).
RELEASE_GIT_ENV = $(if $(shell git ls-remote --get-url 2>/dev/null),,GIT_CONFIG_COUNT=1 \
	GIT_CONFIG_KEY_0=remote.origin.url GIT_CONFIG_VALUE_0=https://github.com/gitsign-dev/gitsign.git)

# RELEASE_FLAGS: goreleaser's; release-test drops --skip=sign.
RELEASE_FLAGS ?= --snapshot --skip=sign
release: $(GORELEASER) $(SYFT)
	$(RELEASE_GIT_ENV) PATH="$(dir $(SYFT)):$$PATH" $(GORELEASER) release $(RELEASE_FLAGS) --clean

release-publish: $(GORELEASER) $(SYFT) $(COSIGN)
	PATH="$(dir $(SYFT)):$(dir $(COSIGN)):$$PATH" $(GORELEASER) release --clean

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

release-test: $(COSIGN) stack-up
	MAKE=$(MAKE) COSIGN=$(COSIGN) STACK=$(STACK) hack/release-test

## test-clone: the unit tests in a fresh clone of the committed HEAD, to
## catch tests that need files git does not have (part of test).
.PHONY: test-clone
test-clone:
	GO=$(GO) hack/test-clone

## sweep: the whole mutation sweep (verify/sweep_test.go): every byte of
## every vector's signature changed six ways, and every field of its CMS,
## log entry, checkpoint and timestamp token changed, dropped and
## duplicated; each must be refused but the variants docs/security.md lists.
## make test runs all but the bytes, and a sample of those.
.PHONY: sweep
sweep:
	GITSIGN_SWEEP=full $(GO) test -count=1 -timeout 60m -run 'TestSweep|TestNewBundleDifferential' ./verify/
