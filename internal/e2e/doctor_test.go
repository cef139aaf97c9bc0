//go:build e2e

package e2e

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestDoctor: against the local stack, with its trusted root and its
// timestamp authority, gitsign doctor finds every service reachable, the
// clock in step and nothing else wrong: every check ok, exit 0. With the
// issuer gone, it fails naming the issuer, exit 1.
func TestDoctor(t *testing.T) {
	var env []string
	for _, kv := range baseEnv(t, t.TempDir()) {
		if !strings.HasPrefix(kv, "GITSIGN_LOCAL_") { // the stack's own, which gitsign would call unknown
			env = append(env, kv)
		}
	}
	env = append(env, "GITSIGN_TIMESTAMP_SERVER_URL="+stackEnv(t, "GITSIGN_TIMESTAMP_SERVER_URL"), "GITSIGN_CACHE=off")
	r := &repo{t: t, dir: t.TempDir(), env: env}
	r.git("init", "-q", "-b", "main")
	r.git("config", "gpg.format", "x509")
	r.git("config", "gpg.x509.program", gitsignBin)
	r.git("config", "commit.gpgsign", "true")
	r.git("config", "tag.gpgsign", "true")

	out, errOut, err := r.run(gitsignBin, "doctor", "--json")
	var report struct {
		Schema int  `json:"schema"`
		OK     bool `json:"ok"`
		Checks []struct {
			Name, Status, Summary string
			Hints                 []string
		} `json:"checks"`
	}
	if jerr := json.Unmarshal([]byte(out), &report); jerr != nil {
		t.Fatalf("gitsign doctor --json: %v (exit: %v)\n%s%s", jerr, err, out, errOut)
	}
	if err != nil || errOut != "" || !report.OK || report.Schema != 1 {
		t.Errorf("gitsign doctor: %v, ok=%v\n%s%s", err, report.OK, out, errOut)
	}
	seen := map[string]bool{}
	for _, c := range report.Checks {
		seen[c.Name] = true
		// hack/sigstore-local makes a Fulcio root that lasts 30 days:
		// doctor rightly says it ends within 30 days, a warning.
		if c.Name == "trusted-root" && c.Status == "warn" && strings.Contains(c.Summary, "Fulcio certificate authority stops being valid on") {
			continue
		}
		if c.Status != "ok" {
			t.Errorf("check %s: %s: %s %v", c.Name, c.Status, c.Summary, c.Hints)
		}
	}
	for _, name := range []string{"issuer", "fulcio", "rekor", "tsa", "clock", "trusted-root"} {
		if !seen[name] {
			t.Errorf("no %s check in %s", name, out)
		}
	}

	// The text form says the same, one line a check.
	out, errOut, err = r.run(gitsignBin, "doctor")
	if err != nil || errOut != "" || !strings.Contains(out, "ok    fulcio        Fulcio at "+stackEnv(t, "GITSIGN_FULCIO_URL")+"/api/v2/trustBundle answers (HTTP 200)") {
		t.Errorf("gitsign doctor: %v\n%s%s", err, out, errOut)
	}

	// An issuer where nothing listens: the issuer fails, exit 1.
	r.env = append(r.env, "GITSIGN_OIDC_ISSUER=http://127.0.0.1:1")
	out, errOut, err = r.run(gitsignBin, "doctor")
	if err == nil || !strings.Contains(out, "fail  issuer ") || errOut != "gitsign: error: 1 of 11 checks failed: issuer\n" {
		t.Errorf("doctor with no issuer: %v\n%s%s", err, out, errOut)
	}
}
