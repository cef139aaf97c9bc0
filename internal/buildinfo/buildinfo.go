// Package buildinfo says which build of gitsign is running: its version,
// the commit and date it was built from, the Go toolchain, the sigstore-go
// module it was linked with and the platform. Both gitsign and
// gitsign-credential-cache report it (`gitsign version`,
// `gitsign-credential-cache --version`).
//
// Release builds set Version, Commit and Date with the linker:
//
//	go build -ldflags "-X github.com/gitsign-dev/gitsign/internal/buildinfo.Version=v1.2.3 \
//	  -X github.com/gitsign-dev/gitsign/internal/buildinfo.Commit=abc123 \
//	  -X github.com/gitsign-dev/gitsign/internal/buildinfo.Date=2026-11-29T00:00:00Z" ./cmd/gitsign
//
// Without them, [Get] falls back to what the Go toolchain recorded in the
// binary (the module version of `go install ...@v1.2.3`, and the VCS
// revision and time when built with -buildvcs).
package buildinfo

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// Set at build time with -ldflags "-X"; empty means unknown.
var (
	// Version is the release version, e.g. "v1.2.3".
	Version string
	// Commit is the git commit the build was made from.
	Commit string
	// Date is the build (or commit) time, RFC 3339 in UTC.
	Date string
)

// sigstoreGo is the module whose version Info reports.
const sigstoreGo = "github.com/sigstore/sigstore-go"

// Info describes one build. Fields that are not known are empty.
type Info struct {
	// Version is Version, else the main module's version, else "devel".
	Version string `json:"version"`
	// Commit is Commit, else the vcs.revision the toolchain recorded.
	Commit string `json:"commit"`
	// Date is Date, else the vcs.time the toolchain recorded.
	Date string `json:"date"`
	// GoVersion is the Go toolchain that built the binary.
	GoVersion string `json:"goVersion"`
	// SigstoreGoVersion is the sigstore-go module version linked in;
	// empty if the binary does not link sigstore-go.
	SigstoreGoVersion string `json:"sigstoreGoVersion"`
	// OS and Arch are the platform the binary was built for.
	OS   string `json:"os"`
	Arch string `json:"arch"`
}

// Get returns the running binary's build information.
func Get() Info {
	bi, _ := debug.ReadBuildInfo()
	return get(bi)
}

// get fills in Info from the linker variables, then from bi (may be nil).
func get(bi *debug.BuildInfo) Info {
	i := Info{Version: Version, Commit: Commit, Date: Date,
		GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}
	if bi != nil {
		if i.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			i.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision" && i.Commit == "":
				i.Commit = s.Value
			case s.Key == "vcs.time" && i.Date == "":
				i.Date = s.Value
			}
		}
		for _, d := range bi.Deps {
			if d.Path == sigstoreGo {
				i.SigstoreGoVersion = d.Version
				if d.Replace != nil && d.Replace.Version != "" {
					i.SigstoreGoVersion = d.Replace.Version
				}
			}
		}
	}
	if i.Version == "" {
		i.Version = "devel"
	}
	return i
}

// WriteText writes i as "key: value" lines, one fact per line, with
// "unknown" for what is not known and "none" as the sigstore-go version of
// a binary that does not link it (gitsign-credential-cache).
func (i Info) WriteText(w io.Writer) error {
	_, err := fmt.Fprintf(w, "version: %s\ncommit: %s\nbuild date: %s\ngo version: %s\nsigstore-go version: %s\nplatform: %s/%s\n",
		orUnknown(i.Version), orUnknown(i.Commit), orUnknown(i.Date), orUnknown(i.GoVersion),
		or(i.SigstoreGoVersion, "none"), orUnknown(i.OS), orUnknown(i.Arch))
	return err
}

func or(s, instead string) string {
	if s == "" {
		return instead
	}
	return s
}

func orUnknown(s string) string { return or(s, "unknown") }
