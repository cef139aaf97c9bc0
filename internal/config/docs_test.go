package config

import (
	"slices"
	"strings"
	"testing"

	"github.com/gitsign-dev/gitsign/oauth"
)

// TestEverySettingDocumented: every setting, multi-valued key and
// environment-only variable has a doc, and no doc is left over from a
// setting that is gone.
func TestEverySettingDocumented(t *testing.T) {
	used := make(map[string]bool)
	check := func(name string) {
		t.Helper()
		used[name] = true
		d, ok := docs[name]
		if !ok {
			t.Errorf("%s has no doc", name)
			return
		}
		if d.Kind == "" || d.Text == "" {
			t.Errorf("%s: kind %q, text %q: both are needed", name, d.Kind, d.Text)
		}
		if d.Key != "" || d.Env != nil || d.Multi {
			t.Errorf("%s: the doc sets Key, Env or Multi, which come from the settings table", name)
		}
		// Plain text: generators add the markup of Markdown and roff.
		if strings.ContainsAny(d.Text+d.Kind+d.Default+d.DefaultNote, "`|\n\\") || !strings.HasSuffix(d.Text, ".") {
			t.Errorf("%s: text %q is not plain sentences", name, d.Text)
		}
	}
	for _, s := range settings {
		check(s.key)
	}
	for _, m := range multis {
		check(m.key)
	}
	for _, v := range envOnly {
		check(v.name)
	}
	for name := range docs {
		if !used[name] {
			t.Errorf("doc for %q, which is not a setting", name)
		}
	}
}

// TestEveryVariableDocumented: every variable gitsign reads appears in a
// Doc, including those that only the environment sets and that Parse
// reads, which Describe must list too.
func TestEveryVariableDocumented(t *testing.T) {
	documented := make(map[string]int)
	for _, d := range Documented() {
		for _, v := range d.Env {
			documented[v]++
		}
	}
	listed := make(map[string]bool)
	for _, v := range envOnly {
		listed[v.name] = true
	}
	var read []string
	for _, s := range settings {
		read = append(read, s.env...)
	}
	for _, s := range envSettings {
		read = append(read, s.env...)
		if s.key != "" || len(s.env) != 1 {
			t.Errorf("environment-only setting %v: want no key and one variable", s.env)
		}
		if !listed[s.env[0]] {
			t.Errorf("%s is read by Parse but Describe does not list it (envOnly)", s.env[0])
		}
	}
	for _, v := range envOnly {
		read = append(read, v.name)
	}
	for _, v := range read {
		if documented[v] != 1 {
			t.Errorf("%s is in %d docs, want 1", v, documented[v])
		}
	}
	slices.Sort(read)
	if read = slices.Compact(read); len(documented) != len(read) {
		t.Errorf("%d variables documented, %d read", len(documented), len(read))
	}
}

// TestDocumentedDefaults: a default written in a doc is the one Default
// gives, and one Default gives is written in the doc; defaults that are
// not in Config (worked out later, or in another package) are notes.
func TestDocumentedDefaults(t *testing.T) {
	def := Default()
	n := 0
	for _, d := range Documented() {
		shown := ""
		if f, ok := shownValues[d.Key]; ok {
			shown = f(def)
		}
		if d.Default != shown {
			t.Errorf("%s: documented default %q, Default() gives %q", d.Name(), d.Default, shown)
		}
		if shown != "" {
			n++
		}
	}
	if n < 10 {
		t.Errorf("only %d defaults compared", n)
	}
	byName := make(map[string]Doc)
	for _, d := range Documented() {
		byName[d.Name()] = d
	}
	if got := byName["gitsign.tokenFile"].DefaultNote; got != oauth.DefaultTokenFile {
		t.Errorf("gitsign.tokenFile default %q, the filesystem provider reads %q", got, oauth.DefaultTokenFile)
	}
	if got := byName["GITSIGN_IAM_CREDENTIALS_URL"].DefaultNote; got != oauth.DefaultIAMCredentialsURL {
		t.Errorf("GITSIGN_IAM_CREDENTIALS_URL default %q, google-impersonate asks %q", got, oauth.DefaultIAMCredentialsURL)
	}
	if got := byName["GITSIGN_IAM_CREDENTIALS_URL"].Env; len(got) != 1 || got[0] != oauth.EnvIAMCredentialsURL {
		t.Errorf("GITSIGN_IAM_CREDENTIALS_URL doc is for %q, google-impersonate reads %s", got, oauth.EnvIAMCredentialsURL)
	}
	if got := byName[keyRekor].DefaultNote; !strings.Contains(got, defaultRekorV2) {
		t.Errorf("gitsign.rekor note %q lacks the Rekor v2 default", got)
	}
	for _, p := range tokenProviders {
		if !strings.Contains(byName["gitsign.tokenProvider"].Text, p) {
			t.Errorf("gitsign.tokenProvider doc lacks %q", p)
		}
	}
}

// TestDocumentedOrderAndCopy: Documented follows the tables, marks the
// multi-valued keys, and hands out copies.
func TestDocumentedOrderAndCopy(t *testing.T) {
	ds := Documented()
	if len(ds) != len(settings)+len(multis)+len(envOnly) {
		t.Fatalf("%d docs for %d settings", len(ds), len(settings)+len(multis)+len(envOnly))
	}
	if ds[0].Key != "gitsign.fulcio" || !slices.Equal(ds[0].Env, []string{"SIGSTORE_FULCIO_URL", "GITSIGN_FULCIO_URL"}) {
		t.Errorf("first doc %+v", ds[0])
	}
	for i, d := range ds {
		wantMulti := i >= len(settings) && i < len(settings)+len(multis)
		if d.Multi != wantMulti {
			t.Errorf("%s: Multi %v", d.Name(), d.Multi)
		}
		if (d.Key == "") != (i >= len(settings)+len(multis)) {
			t.Errorf("%s: key %q out of place", d.Name(), d.Key)
		}
	}
	ds[0].Env[0] = "CHANGED"
	if Documented()[0].Env[0] != "SIGSTORE_FULCIO_URL" {
		t.Error("changing a Doc changed the table")
	}
}

// TestEnvironmentOnlySettings: the variables with no git config key are
// read into Config, and nothing in git config sets them.
func TestEnvironmentOnlySettings(t *testing.T) {
	env := map[string]string{
		"SIGSTORE_REKOR_PUBLIC_KEY":       "/k/rekor.pem",
		"SIGSTORE_CT_LOG_PUBLIC_KEY_FILE": "/k/ctlog.pem",
		"TUF_ROOT":                        "/var/tuf",
	}
	c, err := Parse(nil, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	if c.RekorPublicKeyFile != "/k/rekor.pem" || c.CTLogPublicKeyFile != "/k/ctlog.pem" || c.TUFRoot != "/var/tuf" {
		t.Errorf("got %q, %q, %q", c.RekorPublicKeyFile, c.CTLogPublicKeyFile, c.TUFRoot)
	}
	c, err = Parse([]byte("tuf_root\n/x\x00.tuf_root\n/y\x00"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.TUFRoot != "" || c.RekorPublicKeyFile != "" {
		t.Errorf("git config set an environment-only setting: %+v", c)
	}
}

// TestAgentSocket: the agent's socket comes from GITSIGN_CREDENTIAL_CACHE
// only; an empty value means the default, as unset does.
func TestAgentSocket(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{nil, ""},
		{map[string]string{"GITSIGN_CREDENTIAL_CACHE": "/run/a.sock"}, "/run/a.sock"},
		{map[string]string{"GITSIGN_CREDENTIAL_CACHE": ""}, ""},
		{map[string]string{"SIGSTORE_CREDENTIAL_CACHE": "/run/b.sock"}, ""},
	} {
		got := AgentSocket(func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok })
		if got != tc.want {
			t.Errorf("%v: %q, want %q", tc.env, got, tc.want)
		}
	}
}
