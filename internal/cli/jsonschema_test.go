package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gitsign-dev/gitsign/internal/allowedsigners"
	"github.com/gitsign-dev/gitsign/internal/schemacheck"
)

// checkAgainstSchema fails t when doc, a command's --json output, is not
// valid under docs/schema/NAME.json.
func checkAgainstSchema(t *testing.T, name, doc string) {
	t.Helper()
	schemacheck.Check(t, name, []byte(doc))
}

// TestShowGoldensMatchSchema: gitsign show --json's golden outputs (the
// exact bytes TestShowGolden compares against) are valid under
// docs/schema/show.json.
func TestShowGoldensMatchSchema(t *testing.T) {
	files, err := filepath.Glob("testdata/show/*.json")
	if err != nil || len(files) < 5 {
		t.Fatalf("show goldens: %v, %d", err, len(files))
	}
	for _, f := range files {
		doc, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := schemacheck.Validate("show", doc); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// TestSchemasRejectOldShapes: the schemas are strict enough to catch a
// field renamed back or left undocumented: the shapes gitsign printed
// before schema 1 do not validate.
func TestSchemasRejectOldShapes(t *testing.T) {
	golden, err := os.ReadFile("testdata/show/workflow.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ schema, doc string }{
		{"verify", `[{"object":"df477d3ea14115068071431f66dad858e8bd092b","type":"commit","verified":false,"error":"x"}]`},
		{"verify", `{"schema":1,"results":[{"object":"df477d3ea14115068071431f66dad858e8bd092b","type":"commit","verified":false,"error":"x","logIndex":3}]}`},
		{"verify", `{"schema":1,"results":[{"object":"df477d3ea14115068071431f66dad858e8bd092b","type":"commit","verified":true,"error":"x"}]}`},
		{"verify", `{"schema":2,"results":[]}`},
		{"show", strings.Replace(string(golden), `"1.3.6.1.4.1.57264.1.24"`, `"token-subject"`, 1)},
		{"show", strings.Replace(string(golden), `"schema": 1,`, ``, 1)},
		{"show", strings.Replace(string(golden), `"notAfter": "2026-11-29T21:01:42Z"`, `"notAfter": "yesterday"`, 1)},
		{"cache-status", `{"schema":1,"mode":"auto","cache":"none","reachable":false}`},
		{"version", `{"version":"devel"}`},
		{"doctor", `{"schema":1,"ok":true,"checks":[{"name":"a","status":"fine","summary":"","hints":[]}]}`},
	} {
		if err := schemacheck.Validate(c.schema, []byte(c.doc)); err == nil {
			t.Errorf("schema/%s.json accepts %s", c.schema, c.doc)
		}
	}
	if err := schemacheck.Validate("show", golden); err != nil {
		t.Errorf("the golden itself: %v", err)
	}
}

// TestShowSuggestsOnlyWhatParses is a property of gitsign show's output
// over every golden: each allowed-signers line it suggests, in text and
// JSON, parses with the allowed-signers parser; and each claim it names
// by a name (not a dotted OID) is an option that parser accepts, so that
// NAME=VALUE copied from show's output into a line is never refused.
func TestShowSuggestsOnlyWhatParses(t *testing.T) {
	oid := regexp.MustCompile(`^1\.3\.6\.1\.4\.1\.57264\.1\.[0-9]+$`)
	var options []string
	for _, o := range allowedsigners.ClaimOptions {
		options = append(options, o.Name)
	}
	files, err := filepath.Glob("testdata/show/*.json")
	if err != nil || len(files) < 5 {
		t.Fatalf("show goldens: %v, %d", err, len(files))
	}
	lines := 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			AllowedSigners []string          `json:"allowedSigners"`
			Claims         map[string]string `json:"claims"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		text, err := os.ReadFile(strings.TrimSuffix(f, ".json") + ".txt")
		if err != nil {
			t.Fatal(err)
		}
		suggested := doc.AllowedSigners
		var fromText []string
		for l := range strings.SplitSeq(string(text), "\n") {
			if v, ok := strings.CutPrefix(l, "allowed-signers: "); ok {
				fromText = append(fromText, v)
			}
		}
		if !slices.Equal(fromText, suggested) {
			t.Errorf("%s: the text suggests %q, the JSON %q", f, fromText, suggested)
		}
		for _, l := range suggested {
			lines++
			if _, err := allowedsigners.Parse([]byte(l+"\n"), "suggested"); err != nil {
				t.Errorf("%s: suggested line %q does not parse: %v", f, l, err)
			}
		}
		for name := range doc.Claims {
			switch {
			case oid.MatchString(name):
			case slices.Contains(options, name):
				line := "alice@example.test https://issuer.example.test " + name + "=value"
				if _, err := allowedsigners.Parse([]byte(line+"\n"), "claim"); err != nil {
					t.Errorf("%s: claim %s: %q does not parse: %v", f, name, line, err)
				}
			default:
				t.Errorf("%s: claim %q is named like an option, but no allowed-signers option has that name", f, name)
			}
			if !strings.Contains(string(text), "\n"+name+": ") {
				t.Errorf("%s: claim %s is not in the text output", f, name)
			}
		}
	}
	if lines < 6 {
		t.Errorf("only %d suggested lines across the goldens", lines)
	}
}

// TestDoctorMatchesSchema: gitsign doctor --offline --json is valid under
// docs/schema/doctor.json, with every check passing or skipped and with
// a warning that carries hints (a misspelt key).
func TestDoctorMatchesSchema(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	for _, misspelt := range []bool{false, true} {
		if misspelt {
			t.Setenv("GIT_CONFIG_COUNT", "1")
			t.Setenv("GIT_CONFIG_KEY_0", "gitsign.allowedSignerFile")
			t.Setenv("GIT_CONFIG_VALUE_0", ".gitsigners")
		}
		var out, errs bytes.Buffer
		run([]string{"doctor", "--offline", "--json"}, streams{in: new(bytes.Buffer), out: &out, err: &errs})
		if misspelt && !strings.Contains(out.String(), `"hints": [`) {
			t.Errorf("no hints for a misspelt key:\n%s", out.String())
		}
		checkAgainstSchema(t, "doctor", out.String())
	}
}
