package schemacheck

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestSchemasCompile: every schema in docs/schema is a valid draft
// 2020-12 schema whose references resolve.
func TestSchemasCompile(t *testing.T) {
	for _, name := range schemaNames(t) {
		if _, err := Schema(name); err != nil {
			t.Errorf("%s.json: %v", name, err)
		}
	}
}

// TestDocsListEveryField: docs/json.md and docs/schema say the same:
// each schema has a section in docs/json.md whose heading names it, and
// the field paths in that section's table (the first column) are exactly
// the members the schema defines.
func TestDocsListEveryField(t *testing.T) {
	dir, err := Dir()
	if err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(dir, "..", "json.md"))
	if err != nil {
		t.Fatal(err)
	}
	documented := docSections(string(md))
	names := schemaNames(t)
	for _, name := range names {
		raw, err := os.ReadFile(filepath.Join(dir, name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var schema map[string]any
		if err := json.Unmarshal(raw, &schema); err != nil {
			t.Fatalf("%s.json: %v", name, err)
		}
		want := schemaFields(schema)
		got, ok := documented[name]
		if !ok {
			t.Errorf("docs/json.md has no section for schema/%s.json", name)
			continue
		}
		for _, f := range sorted(want) {
			if !got[f] {
				t.Errorf("schema/%s.json defines %s, which docs/json.md does not list", name, f)
			}
		}
		for _, f := range sorted(got) {
			if !want[f] {
				t.Errorf("docs/json.md lists %s under schema/%s.json, which does not define it", f, name)
			}
		}
	}
	for name := range documented {
		if !slices.Contains(names, name) {
			t.Errorf("docs/json.md has a section for schema/%s.json, which does not exist", name)
		}
	}
}

func schemaNames(t *testing.T) []string {
	t.Helper()
	dir, err := Dir()
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no schemas in %s: %v", dir, err)
	}
	var names []string
	for _, f := range files {
		names = append(names, strings.TrimSuffix(filepath.Base(f), ".json"))
	}
	return names
}

var (
	sectionHeading = regexp.MustCompile("^## .*`schema/([a-z-]+)\\.json`")
	fieldRow       = regexp.MustCompile("^\\| `([^`]+)` \\|")
)

// docSections reads docs/json.md: for each "## ... `schema/NAME.json`"
// section, the paths in the first column of its table rows.
func docSections(md string) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	var current map[string]bool
	for line := range strings.SplitSeq(md, "\n") {
		if strings.HasPrefix(line, "## ") {
			current = nil
			if m := sectionHeading.FindStringSubmatch(line); m != nil {
				current = map[string]bool{}
				out[m[1]] = current
			}
			continue
		}
		if m := fieldRow.FindStringSubmatch(line); m != nil && current != nil {
			current[m[1]] = true
		}
	}
	return out
}

// schemaFields lists the member paths a schema defines: "a.b" for member
// b of member a, "a[].b" for member b of a's elements, "a.*" for any
// member of a map. A member whose schema is a shared shape of defs.json
// is one path: its fields are listed with defs.json's. For defs.json
// itself, each definition is a path, and so are its members.
func schemaFields(schema map[string]any) map[string]bool {
	out := map[string]bool{}
	defs, _ := schema["$defs"].(map[string]any)
	if _, ok := schema["properties"]; !ok {
		for name, d := range defs {
			out[name] = true
			walk(d, name, defs, out)
		}
		return out
	}
	walk(schema, "", defs, out)
	return out
}

func walk(node any, path string, defs map[string]any, out map[string]bool) {
	n, ok := node.(map[string]any)
	if !ok {
		return
	}
	if ref, ok := n["$ref"].(string); ok {
		if local, ok := strings.CutPrefix(ref, "#/$defs/"); ok {
			walk(defs[local], path, defs, out)
		}
		return // a shared shape: documented in its own section
	}
	if props, ok := n["properties"].(map[string]any); ok {
		for k, v := range props {
			p := k
			if path != "" {
				p = path + "." + k
			}
			out[p] = true
			walk(v, p, defs, out)
		}
	}
	if items, ok := n["items"]; ok {
		walk(items, path+"[]", defs, out)
	}
	if _, ok := n["additionalProperties"].(map[string]any); ok {
		out[path+".*"] = true
	}
}

func sorted(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
