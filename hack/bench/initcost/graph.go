package main

import (
	"fmt"
	"os/exec"
	"strings"
)

// sigstoreGo is the module whose weight the report singles out.
const sigstoreGo = "github.com/sigstore/sigstore-go"

// The groups, in report order, and their short names for the top list.
const (
	groupOurs  = "ours (the main module)"
	groupSGo   = "sigstore-go and what only it brings"
	groupStd   = "standard library (the rest)"
	groupOther = "other modules (the rest)"
)

var groupOrder = []string{groupOurs, groupSGo, groupStd, groupOther}

var short = map[string]string{groupOurs: "ours", groupSGo: "sigstore-go", groupStd: "stdlib", groupOther: "other"}

// pkgInfo is one package of the build graph.
type pkgInfo struct {
	standard bool
	module   string
	main     bool // in the main module
	imports  []string
}

// graph is the import graph of a main package, with the set of packages
// reachable from it without passing through a sigstore-go package.
type graph struct {
	pkgs    map[string]*pkgInfo
	without map[string]bool
}

// loadGraph runs `go list -deps` on pkg.
func loadGraph(pkg string) (*graph, error) {
	out, err := exec.Command("go", "list", "-deps", "-f",
		`{{.ImportPath}}|{{.Standard}}|{{with .Module}}{{.Path}}|{{.Main}}{{else}}|{{end}}|{{join .Imports " "}}`, pkg).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return nil, fmt.Errorf("go list -deps %s: %v: %s", pkg, err, lastLine(string(ee.Stderr)))
		}
		return nil, fmt.Errorf("go list -deps %s: %v", pkg, err)
	}
	return parseGraph(string(out))
}

// parseGraph reads loadGraph's lines (dependencies first, the main
// package last, as go list -deps prints them).
func parseGraph(out string) (*graph, error) {
	g := &graph{pkgs: map[string]*pkgInfo{}, without: map[string]bool{}}
	var root string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Split(line, "|")
		if len(f) != 5 {
			return nil, fmt.Errorf("go list: unexpected line %q", line)
		}
		g.pkgs[f[0]] = &pkgInfo{standard: f[1] == "true", module: f[2], main: f[3] == "true", imports: strings.Fields(f[4])}
		root = f[0]
	}
	if root == "" {
		return nil, fmt.Errorf("go list printed no packages")
	}
	// Everything reachable from the root without entering sigstore-go.
	stack := []string{root}
	g.without[root] = true
	for len(stack) > 0 {
		p := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		info := g.pkgs[p]
		if info == nil {
			continue
		}
		for _, imp := range info.imports {
			if g.without[imp] || isSigstoreGo(g.pkgs[imp]) {
				continue
			}
			g.without[imp] = true
			stack = append(stack, imp)
		}
	}
	return g, nil
}

func isSigstoreGo(info *pkgInfo) bool { return info != nil && info.module == sigstoreGo }

// groupOf says which group a package of the trace belongs to. The trace
// names the main package "main".
func (g *graph) groupOf(pkg string) string {
	info := g.pkgs[pkg]
	switch {
	case pkg == "main" || (info != nil && info.main):
		return groupOurs
	case info == nil:
		// Not in the graph: a runtime-internal package go list does not show.
		if first, _, _ := strings.Cut(pkg, "/"); !strings.Contains(first, ".") {
			return groupStd
		}
		return groupOther
	case isSigstoreGo(info) || !g.without[pkg]:
		return groupSGo
	case info.standard:
		return groupStd
	default:
		return groupOther
	}
}
