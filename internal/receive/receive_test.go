package receive

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	z, a, b := strings.Repeat("0", 40), strings.Repeat("a", 40), strings.Repeat("b", 40)
	got, err := Parse(strings.NewReader(z+" "+a+" refs/heads/main\n"+a+" "+b+" refs/tags/v1\n"+b+" "+z+" refs/heads/x"), 40)
	if err != nil || len(got) != 3 {
		t.Fatalf("%v, %v", got, err)
	}
	if !got[0].Created() || got[0].Deleted() || got[1].Created() || got[1].Deleted() || !got[2].Deleted() {
		t.Errorf("created/deleted wrong: %+v", got)
	}
	for _, in := range []string{
		a + " " + b,                                         // no ref
		a + " " + b + " refs/heads/x extra",                 // too many fields
		a + "  " + b + " refs/heads/x",                      // two spaces
		a[:39] + " " + b + " refs/heads/x",                  // short id
		strings.ToUpper(a) + " " + b + " refs/heads/x",      // not lowercase hex
		a + " " + b + " heads/x",                            // not a full ref
		a + " " + b + " refs/",                              // empty ref
		a + " " + b + " refs/heads/\x1b[31m",                // control character
		z + " " + z + " refs/heads/x",                       // neither
		a + " " + strings.Repeat("b", 64) + " refs/heads/x", // other format
		strings.Repeat("x", maxLine+1),
	} {
		if got, err := Parse(strings.NewReader(in+"\n"), 40); err == nil {
			t.Errorf("%q: %v, want an error", in, got)
		} else if strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), "\x1b") {
			t.Errorf("%q: error %q is not one clean line", in, err)
		}
	}
	// Either format's ids, the same on every line.
	if got, err := Parse(strings.NewReader(z+" "+a+" refs/heads/main\n"), 0); err != nil || len(got) != 1 {
		t.Errorf("idLen 0, SHA-1 ids: %v, %v", got, err)
	}
	z64, a64 := strings.Repeat("0", 64), strings.Repeat("a", 64)
	if got, err := Parse(strings.NewReader(z64+" "+a64+" refs/heads/main\n"), 0); err != nil || len(got) != 1 {
		t.Errorf("idLen 0, SHA-256 ids: %v, %v", got, err)
	}
	if got, err := Parse(strings.NewReader(z64+" "+a64+" refs/heads/main\n"+z+" "+a+" refs/heads/x\n"), 0); err == nil {
		t.Errorf("idLen 0, mixed lengths: %v", got)
	}
	var many strings.Builder
	for range MaxUpdates + 1 {
		many.WriteString(a + " " + b + " refs/heads/x\n")
	}
	if _, err := Parse(strings.NewReader(many.String()), 40); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Errorf("too many updates: %v", err)
	}
}

func TestPatterns(t *testing.T) {
	for _, c := range []struct {
		pat, ref string
		want     bool
	}{
		{"refs/heads/main", "refs/heads/main", true},
		{"refs/heads/main", "refs/heads/main2", false},
		{"refs/heads/main", "refs/heads/mai", false},
		{"refs/heads/scratch/*", "refs/heads/scratch/a", true},
		{"refs/heads/scratch/*", "refs/heads/scratch/a/b", true},
		{"refs/heads/scratch/*", "refs/heads/scratch", false},
		{"refs/heads/scratch/*", "refs/heads/scratchy/a", false},
		{"refs/tags/*", "refs/tags/v1", true},
		{"*", "refs/anything", true},
		{"refs/*/x", "refs/a/b/x", true},
		{"refs/*/x", "refs/a/b/y", false},
		{"refs/heads/*-wip", "refs/heads/a-wip", true},
		{"refs/heads/*-wip", "refs/heads/a-wip2", false},
		{"", "refs/heads/main", false},
	} {
		if got := (Patterns{c.pat}).Match(c.ref); got != c.want {
			t.Errorf("%q ~ %q = %v, want %v", c.pat, c.ref, got, c.want)
		}
	}
	// Many stars against a long ref stay fast (no backtracking blow-up).
	pat := strings.Repeat("*a", 50) + "b"
	if (Patterns{pat}).Match("refs/" + strings.Repeat("a", 4000)) {
		t.Error("matched")
	}
}

func FuzzParse(f *testing.F) {
	f.Add(strings.Repeat("0", 40) + " " + strings.Repeat("a", 40) + " refs/heads/main\n")
	f.Fuzz(func(t *testing.T, in string) {
		ups, err := Parse(strings.NewReader(in), 40)
		if err != nil {
			return
		}
		for _, u := range ups {
			if !validRef(u.Ref) || len(u.Old) != 40 || len(u.New) != 40 {
				t.Fatalf("accepted %+v", u)
			}
		}
	})
}
