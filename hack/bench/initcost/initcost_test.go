package main

import (
	"bytes"
	"strings"
	"testing"
)

const sampleTrace = `init runtime @0.19 ms, 0.033 ms clock, 0 bytes, 0 allocs
some other line the program printed
init github.com/asaskevich/govalidator @1.5 ms, 1.3 ms clock, 951296 bytes, 6202 allocs
`

func TestParseTrace(t *testing.T) {
	tr, err := parseTrace(sampleTrace)
	if err != nil {
		t.Fatal(err)
	}
	if len(tr) != 2 {
		t.Fatalf("%d packages, want 2", len(tr))
	}
	if c := tr["github.com/asaskevich/govalidator"]; c != (cost{ms: 1.3, bytes: 951296, allocs: 6202}) {
		t.Errorf("govalidator = %+v", c)
	}
	for name, bad := range map[string]string{
		"no lines":     "hello\n",
		"truncated":    "init runtime @0.19 ms, 0.033 ms clock\n",
		"not a number": "init runtime @0.19 ms, x ms clock, 0 bytes, 0 allocs\n",
		"twice":        "init a @1 ms, 1 ms clock, 0 bytes, 0 allocs\ninit a @2 ms, 1 ms clock, 0 bytes, 0 allocs\n",
	} {
		if _, err := parseTrace(bad); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// The main module imports sigstore-go, which alone brings govalidator;
// encoding/gob comes both through sigstore-go and through our own
// package, so it is not sigstore-go's, and neither is strings, which gob
// imports; unicode comes only through govalidator.
const sampleGraph = `strings|true|||
unicode|true|||
encoding/gob|true|||strings
github.com/asaskevich/govalidator|false|github.com/asaskevich/govalidator|false|strings unicode
github.com/sigstore/sigstore-go/pkg/verify|false|github.com/sigstore/sigstore-go|false|github.com/asaskevich/govalidator encoding/gob strings
github.com/other/mod|false|github.com/other/mod|false|
example.test/me/internal/a|false|example.test/me|true|encoding/gob github.com/other/mod
example.test/me/cmd/me|false|example.test/me|true|example.test/me/internal/a github.com/sigstore/sigstore-go/pkg/verify
`

func TestGroups(t *testing.T) {
	g, err := parseGraph(sampleGraph)
	if err != nil {
		t.Fatal(err)
	}
	for pkg, want := range map[string]string{
		"main":                       groupOurs,
		"example.test/me/internal/a": groupOurs,
		"github.com/sigstore/sigstore-go/pkg/verify": groupSGo,
		"github.com/asaskevich/govalidator":          groupSGo,
		"strings":                                    groupStd,
		"unicode":                                    groupSGo,
		"encoding/gob":                               groupStd,
		"github.com/other/mod":                       groupOther,
		"internal/runtime/x":                         groupStd,
		"example.org/unknown":                        groupOther,
	} {
		if got := g.groupOf(pkg); got != want {
			t.Errorf("groupOf(%s) = %q, want %q", pkg, got, want)
		}
	}
	if _, err := parseGraph("a|b\n"); err == nil {
		t.Error("parseGraph accepted a short line")
	}
}

func TestSummarizeAndReport(t *testing.T) {
	g, err := parseGraph(sampleGraph)
	if err != nil {
		t.Fatal(err)
	}
	runs := []trace{
		{"main": {ms: 1}, "github.com/asaskevich/govalidator": {ms: 2, allocs: 10}},
		{"main": {ms: 3}, "github.com/asaskevich/govalidator": {ms: 4, allocs: 30}},
		{"main": {ms: 2}},
	}
	s := summarize(runs, g)
	if s.total.ms != 3 || s.minMS != 2 || s.maxMS != 7 {
		t.Errorf("total %v ms (%v-%v), want 3 (2-7)", s.total.ms, s.minMS, s.maxMS)
	}
	// govalidator is missing from one run: it counts zero there.
	if c := s.pkgs["github.com/asaskevich/govalidator"]; c.ms != 2 || c.allocs != 10 {
		t.Errorf("govalidator median = %+v, want 2 ms, 10 allocs", c)
	}
	if s.groups[groupOurs].ms != 2 || s.groupPkgs[groupSGo] != 1 {
		t.Errorf("groups = %+v, %v", s.groups, s.groupPkgs)
	}
	var out bytes.Buffer
	report(&out, s, 1)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 8 || !strings.Contains(lines[len(lines)-1], "sigstore-go  github.com/asaskevich/govalidator") {
		t.Errorf("report:\n%s", out.String())
	}
}
