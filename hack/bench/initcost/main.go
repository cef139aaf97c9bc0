// Command initcost reports what package initialisation costs a Go
// program at start-up, by package and by who brings the package in, for
// the benchmarks in hack/bench/run.
//
// It runs -bin with ARGS (default --version) -runs times with
// GODEBUG=inittrace=1 in a scratch environment (PATH, HOME=-home, no
// system git config) and reads the runtime's trace lines
//
//	init PKG @START ms, CLOCK ms clock, BYTES bytes, ALLOCS allocs
//
// Each package's figure is its median over the runs. It groups the
// packages with `go list -deps` of -pkg (run in the current directory's
// module):
//
//   - ours: the main module's packages;
//   - sigstore-go: sigstore-go's packages, and every package that only
//     they bring in (not reachable from -pkg without passing through a
//     sigstore-go package);
//   - standard library: the rest of the standard library;
//   - others: the rest.
//
// Usage:
//
//	initcost -bin BIN -pkg ./cmd/gitsign [-runs 21] [-home DIR] [-top 12] [-- ARGS...]
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

func main() {
	bin := flag.String("bin", "", "the program to run")
	pkg := flag.String("pkg", "", "its main package, as go list takes it")
	runs := flag.Int("runs", 21, "runs (each figure is the median over them)")
	home := flag.String("home", os.TempDir(), "HOME and working directory of the runs")
	top := flag.Int("top", 12, "packages to list by cost")
	flag.Parse()
	if *bin == "" || *pkg == "" || *runs < 1 {
		flag.Usage()
		os.Exit(2)
	}
	args := flag.Args()
	abs, err := filepath.Abs(*bin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "initcost:", err)
		os.Exit(1)
	}
	*bin = abs
	if len(args) == 0 {
		args = []string{"--version"}
	}
	if err := run(os.Stdout, *bin, *pkg, *home, args, *runs, *top); err != nil {
		fmt.Fprintln(os.Stderr, "initcost:", err)
		os.Exit(1)
	}
}

func run(w io.Writer, bin, pkg, home string, args []string, runs, top int) error {
	graph, err := loadGraph(pkg)
	if err != nil {
		return err
	}
	var traces []trace
	for range runs {
		cmd := exec.Command(bin, args...)
		cmd.Dir = home
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "LANG=C.UTF-8",
			"GIT_CONFIG_NOSYSTEM=1", "GODEBUG=inittrace=1"}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s %s: %v: %s", bin, strings.Join(args, " "), err, lastLine(stderr.String()))
		}
		t, err := parseTrace(stderr.String())
		if err != nil {
			return err
		}
		traces = append(traces, t)
	}
	report(w, summarize(traces, graph), top)
	return nil
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// report prints the totals, the groups and the top packages.
func report(w io.Writer, s *summary, top int) {
	fmt.Fprintf(w, "%d packages with init work; all inits: %.2f ms of clock (median of %d runs; %.2f-%.2f), %.0f KiB in %.0f allocations\n",
		len(s.pkgs), s.total.ms, s.runs, s.minMS, s.maxMS, s.total.bytes/1024, s.total.allocs)
	fmt.Fprintf(w, "  %-44s %9s %9s %9s %7s\n", "group", "packages", "ms", "KiB", "allocs")
	for _, g := range groupOrder {
		c := s.groups[g]
		fmt.Fprintf(w, "  %-44s %9d %9.2f %9.0f %7.0f\n", g, s.groupPkgs[g], c.ms, c.bytes/1024, c.allocs)
	}
	fmt.Fprintf(w, "  top %d by clock:\n", top)
	pkgs := make([]string, 0, len(s.pkgs))
	for p := range s.pkgs {
		pkgs = append(pkgs, p)
	}
	sort.Slice(pkgs, func(i, j int) bool {
		a, b := s.pkgs[pkgs[i]], s.pkgs[pkgs[j]]
		if a.ms != b.ms {
			return a.ms > b.ms
		}
		return pkgs[i] < pkgs[j]
	})
	for i, p := range pkgs {
		if i == top {
			break
		}
		c := s.pkgs[p]
		fmt.Fprintf(w, "  %7.3f ms %7.0f KiB %6.0f allocs  %-12s %s\n", c.ms, c.bytes/1024, c.allocs, short[s.group[p]], p)
	}
}
