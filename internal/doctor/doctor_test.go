package doctor

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/rpc"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/gitsign-dev/gitsign/cache"
	"github.com/gitsign-dev/gitsign/internal/config"
)

// gitZ renders key/value pairs as `git config -z --list` does.
func gitZ(kv ...string) []byte {
	var b strings.Builder
	for i := 0; i < len(kv); i += 2 {
		b.WriteString(kv[i] + "\n" + kv[i+1] + "\x00")
	}
	return []byte(b.String())
}

func find(t *testing.T, r *Report, name string) Check {
	t.Helper()
	for _, c := range r.Checks {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no check %q in %+v", name, r.Checks)
	return Check{}
}

func hasHint(c Check, substr string) bool {
	for _, h := range c.Hints {
		if strings.Contains(h, substr) {
			return true
		}
	}
	return false
}

// offline runs every check but the network's, with no agent socket.
func offline(t *testing.T, z []byte, env ...string) *Report {
	t.Helper()
	env = append(env, "GITSIGN_CREDENTIAL_CACHE=")
	return Run(context.Background(), Options{GitConfig: z, Environ: env, Offline: true})
}

func TestConfigCheck(t *testing.T) {
	c := find(t, offline(t, nil), "config")
	if c.Status != OK {
		t.Errorf("nothing set: %+v", c)
	}
	c = find(t, offline(t, gitZ("gitsign.allowedsignerfile", ".gitsigners")), "config")
	if c.Status != Warn || c.Summary != "git config gitsign.allowedsignerfile is not a gitsign setting: ignored" ||
		!hasHint(c, "did you mean gitsign.allowedSignersFile?") {
		t.Errorf("a misspelt key: %+v", c)
	}
	r := offline(t, gitZ("gitsign.rekorVersion", "3", "gitsign.cache", "off"), "GITSIGN_FULCIO=x")
	c = find(t, r, "config")
	if c.Status != Fail || !strings.HasPrefix(c.Summary, `invalid value "3" for gitsign.rekorVersion: must be 1 or 2; GITSIGN_FULCIO is not`) ||
		!hasHint(c, "git config --show-origin --get-all gitsign.rekorVersion") || !hasHint(c, "did you mean GITSIGN_FULCIO_URL?") {
		t.Errorf("an invalid value and an unknown variable: %+v", c)
	}
	if r.OK {
		t.Error("a report with a failed check is OK")
	}
	// The other checks still see the valid settings.
	if c := find(t, r, "agent"); c.Status != OK || !strings.Contains(c.Summary, "gitsign.cache=off") {
		t.Errorf("the other settings were lost with the invalid one: %+v", c)
	}
}

func TestGitChecks(t *testing.T) {
	dir := t.TempDir()
	self, other := filepath.Join(dir, "gitsign"), filepath.Join(dir, "other", "gitsign")
	os.MkdirAll(filepath.Dir(other), 0o755)
	for _, p := range []string{self, other} {
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(self, link); err != nil {
		t.Fatal(err)
	}
	run := func(prog string, z ...string) *Report {
		lookPath := func(string) (string, error) { return prog, nil }
		return Run(context.Background(), Options{GitConfig: gitZ(z...), Executable: self, LookPath: lookPath, Offline: true})
	}
	wired := []string{"gpg.format", "x509", "gpg.x509.program", "gitsign", "commit.gpgsign", "true", "tag.gpgsign", "yes"}
	r := run(link, wired...)
	for _, name := range []string{"git-format", "git-program", "git-autosign"} {
		if c := find(t, r, name); c.Status != OK {
			t.Errorf("wired to this gitsign (through a link): %+v", c)
		}
	}
	c := find(t, run(other, wired...), "git-program")
	if c.Status != Warn || !strings.Contains(c.Summary, other) || !strings.Contains(c.Summary, self) {
		t.Errorf("another gitsign: %+v", c)
	}
	r = run(self, "gpg.format", "openpgp", "commit.gpgsign", "true")
	if c := find(t, r, "git-format"); c.Status != Fail || !hasHint(c, "gitsign setup") {
		t.Errorf("gpg.format openpgp: %+v", c)
	}
	if c := find(t, r, "git-program"); c.Status != Fail {
		t.Errorf("no gpg.x509.program: %+v", c)
	}
	if c := find(t, r, "git-autosign"); c.Status != Warn || !strings.HasPrefix(c.Summary, "tag.gpgsign is not true") || !hasHint(c, "git config --global tag.gpgsign true") {
		t.Errorf("tag.gpgsign unset: %+v", c)
	}
}

// shortDir is a directory short enough for a unix socket path.
func shortDir(t *testing.T) string {
	dir, err := os.MkdirTemp("", "doc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func agentCheck(t *testing.T, socket, mode string) Check {
	t.Helper()
	r := Run(context.Background(), Options{
		Environ: []string{"GITSIGN_CACHE=" + mode, "GITSIGN_CREDENTIAL_CACHE=" + socket},
		Offline: true, AgentTimeout: 500 * time.Millisecond,
	})
	return find(t, r, "agent")
}

func TestAgentCheck(t *testing.T) {
	dir := shortDir(t)
	missing := filepath.Join(dir, "none.sock")
	if c := agentCheck(t, missing, "agent"); c.Status != Warn || !hasHint(c, "gitsign-credential-cache --socket "+missing) {
		t.Errorf("no agent where one is wanted: %+v", c)
	}

	// gitsign's own agent answers.
	sock := filepath.Join(dir, "ours.sock")
	l, err := cache.Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- (&cache.Server{Agent: cache.NewStore(time.Now)}).Serve(ctx, l) }()
	c := agentCheck(t, sock, "auto")
	cancel()
	<-done
	if c.Status != OK || !strings.Contains(c.Summary, "answers (protocol 1; 0 credentials cached)") {
		t.Errorf("gitsign's agent: %+v", c)
	}
}

// TestAgentCheckOtherAgent: sigstore/gitsign's agent serves Go's net/rpc
// (gob) on its socket: it accepts the connection, but its answer, if
// any, is not gitsign's protocol. So is a program that answers garbage.
func TestAgentCheckOtherAgent(t *testing.T) {
	dir := shortDir(t)
	serve := func(name string, handle func(net.Conn)) string {
		sock := filepath.Join(dir, name)
		l, err := net.Listen("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				go handle(c)
			}
		}()
		return sock
	}
	srv := rpc.NewServer()
	if err := srv.RegisterName("Cache", new(referenceCache)); err != nil {
		t.Fatal(err)
	}
	for name, handle := range map[string]func(net.Conn){
		"rpc.sock":     func(c net.Conn) { srv.ServeConn(c) },
		"garbage.sock": func(c net.Conn) { c.Write([]byte("HTTP/1.1 400 Bad Request\r\n\r\n")); c.Close() },
	} {
		c := agentCheck(t, serve(name, handle), "agent")
		t.Logf("%s: %s", name, c.Summary)
		if c.Status != Fail || !strings.Contains(c.Summary, "does not answer in gitsign's agent protocol") ||
			!hasHint(c, "this is another agent (sigstore/gitsign's?)") {
			t.Errorf("%s: %+v", name, c)
		}
	}
}

// referenceCache has the shape of sigstore/gitsign's net/rpc service.
type referenceCache struct{}

func (referenceCache) GetCredential(id string, reply *[]byte) error { return nil }

// services starts an issuer, a Fulcio and a Rekor that answer with Date
// skewed by skew, and returns the environment that points gitsign at them.
func services(t *testing.T, skew time.Duration) []string {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", time.Now().Add(skew).UTC().Format(http.TimeFormat))
		switch r.URL.Path {
		case "/.well-known/openid-configuration", "/api/v2/trustBundle", "/api/v1/log":
			w.Write([]byte("{}"))
		default:
			http.NotFound(w, r)
		}
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return []string{"GITSIGN_OIDC_ISSUER=" + srv.URL, "GITSIGN_FULCIO_URL=" + srv.URL, "GITSIGN_REKOR_URL=" + srv.URL, "GITSIGN_CACHE=off"}
}

func online(env []string) *Report {
	return Run(context.Background(), Options{Environ: env, ServiceTimeout: 2 * time.Second})
}

func TestServicesAndClock(t *testing.T) {
	r := online(services(t, 0))
	for _, name := range []string{"issuer", "fulcio", "rekor", "clock"} {
		if c := find(t, r, name); c.Status != OK {
			t.Errorf("%s: %+v", name, c)
		}
	}
	if c := find(t, r, "tsa"); c.Status != Skip {
		t.Errorf("no TSA set: %+v", c)
	}
	for skew, want := range map[time.Duration]Status{2 * time.Minute: Warn, -10 * time.Minute: Fail} {
		c := find(t, online(services(t, skew)), "clock")
		if c.Status != want || !hasHint(c, "set the clock right") {
			t.Errorf("skew %s: %+v, want %s", skew, c, want)
		}
	}
	c := find(t, online(services(t, -2*time.Minute)), "clock")
	// Date has whole seconds: 2m0s or 2m1s.
	if !strings.Contains(c.Summary, "the local clock is 2m") || !strings.Contains(c.Summary, "s ahead of Fulcio's") {
		t.Errorf("a clock 2 minutes ahead: %+v", c)
	}
}

func TestServiceUnreachable(t *testing.T) {
	env := append(services(t, 0), "GITSIGN_OIDC_ISSUER=http://127.0.0.1:1", "GITSIGN_TIMESTAMP_SERVER_URL=http://127.0.0.1:1/api/v1/timestamp")
	r := online(env)
	c := find(t, r, "issuer")
	if c.Status != Fail || !strings.Contains(c.Summary, "connection refused") ||
		!hasHint(c, "gitsign.issuer or GITSIGN_OIDC_ISSUER") || !hasHint(c, "SIGSTORE_ID_TOKEN") {
		t.Errorf("an issuer that refuses: %+v", c)
	}
	if c := find(t, r, "tsa"); c.Status != Fail || !hasHint(c, "GITSIGN_TIMESTAMP_SERVER_URL") {
		t.Errorf("a TSA that refuses: %+v", c)
	}
	if r.OK {
		t.Error("OK with unreachable services")
	}
	// With a token given, the issuer is not needed.
	c = find(t, online(append(env, "SIGSTORE_ID_TOKEN=x.y.z")), "issuer")
	if c.Status != Warn {
		t.Errorf("an issuer that refuses, with a token: %+v", c)
	}
	// A Fulcio URL that is not a Fulcio.
	c = find(t, online(append(env, "GITSIGN_FULCIO_URL="+strings.TrimPrefix(env[1], "GITSIGN_FULCIO_URL=")+"/nope")), "fulcio")
	if c.Status != Fail || !strings.Contains(c.Summary, "404") {
		t.Errorf("a Fulcio URL that answers 404: %+v", c)
	}
}

func TestOfflineSkipsNetwork(t *testing.T) {
	r := offline(t, nil, "GITSIGN_OIDC_ISSUER=http://127.0.0.1:1")
	for _, name := range []string{"issuer", "fulcio", "rekor", "tsa", "clock"} {
		if c := find(t, r, name); c.Status != Skip {
			t.Errorf("%s offline: %+v", name, c)
		}
	}
}

func TestTrustedRootFile(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "trusted_root.json")
	os.WriteFile(bad, []byte("{}"), 0o644)
	c := find(t, offline(t, nil, "GITSIGN_TRUSTED_ROOT="+bad), "trusted-root")
	if c.Status != Fail || !hasHint(c, "GITSIGN_TRUSTED_ROOT") {
		t.Errorf("a broken trusted root: %+v", c)
	}
	c = find(t, offline(t, nil), "trusted-root")
	if c.Status != OK || !strings.Contains(c.Summary, "built into gitsign") {
		t.Errorf("the built-in root: %+v", c)
	}
	c = find(t, offline(t, nil, "GITSIGN_FULCIO_URL=https://fulcio.example"), "trusted-root")
	if c.Status != Warn || !hasHint(c, "gitsign.trustedRoot") {
		t.Errorf("a private Fulcio with the public-good root: %+v", c)
	}
}

// TestTUFMetadata: a cached root whose TUF metadata expired is stale.
func TestTUFMetadata(t *testing.T) {
	dir := t.TempDir()
	meta := filepath.Join(dir, "tuf-repo-cdn.sigstore.dev")
	os.MkdirAll(filepath.Join(meta, "targets"), 0o755)
	b, err := os.ReadFile("../../verify/trusted_root.public-good.json")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(meta, "targets", "trusted_root.json"), b, 0o644)
	now := time.Now()
	write := func(timestampExpires time.Time) {
		for role, exp := range map[string]time.Time{"root": now.AddDate(1, 0, 0), "snapshot": now.AddDate(0, 1, 0), "targets": now.AddDate(0, 1, 0), "timestamp": timestampExpires} {
			doc, _ := json.Marshal(map[string]any{"signed": map[string]any{"expires": exp.UTC().Format(time.RFC3339)}})
			os.WriteFile(filepath.Join(meta, role+".json"), doc, 0o644)
		}
	}
	run := func() Check {
		r := Run(context.Background(), Options{Offline: true, Environ: []string{"GITSIGN_CACHE=off"},
			TUFCache: func(*config.Config) string { return dir }})
		return find(t, r, "trusted-root")
	}
	write(now.Add(24 * time.Hour))
	if c := run(); c.Status != OK || !strings.Contains(c.Summary, meta) {
		t.Errorf("fresh metadata: %+v", c)
	}
	write(now.Add(-time.Hour))
	if c := run(); c.Status != Warn || !strings.Contains(c.Summary, "expired") || !hasHint(c, "gitsign initialize") {
		t.Errorf("expired metadata: %+v", c)
	}
}

func TestValidityWindows(t *testing.T) {
	now := time.Now()
	tlog := func(start, end time.Time) map[string]*root.TransparencyLog {
		return map[string]*root.TransparencyLog{"k": {ValidityPeriodStart: start, ValidityPeriodEnd: end}}
	}
	ca := []root.CertificateAuthority{&root.FulcioCertificateAuthority{ValidityPeriodStart: now.AddDate(-1, 0, 0)}}
	for _, c := range []struct {
		name  string
		rekor map[string]*root.TransparencyLog
		want  Status
	}{
		{"open", tlog(now.AddDate(-1, 0, 0), time.Time{}), OK},
		{"ends in 10 days", tlog(now.AddDate(-1, 0, 0), now.AddDate(0, 0, 10)), Warn},
		{"ended", tlog(now.AddDate(-1, 0, 0), now.AddDate(0, 0, -1)), Fail},
		{"not yet", tlog(now.AddDate(0, 0, 1), time.Time{}), Fail},
	} {
		tr, err := root.NewTrustedRoot(root.TrustedRootMediaType01, ca, nil, nil, c.rekor)
		if err != nil {
			t.Fatal(err)
		}
		got, bad := checkWindows("trusted-root", tr, now)
		if !bad {
			got.Status = OK
		}
		if got.Status != c.want || (c.want != OK && !strings.Contains(got.Summary, "Rekor log key")) {
			t.Errorf("%s: %+v, want %s", c.name, got, c.want)
		}
	}
}

// TestReportEscapesAndShape: the JSON report has exactly the documented
// fields, and server text is escaped.
func TestReportEscapesAndShape(t *testing.T) {
	r := &Report{Schema: Schema, OK: true, Checks: []Check{check("x", OK, "fine"), check("y", Warn, "meh", "do this")}}
	b, _ := json.Marshal(r)
	want := `{"schema":1,"ok":true,"checks":[{"name":"x","status":"ok","summary":"fine"},{"name":"y","status":"warn","summary":"meh","hints":["do this"]}]}`
	if string(b) != want {
		t.Errorf("JSON = %s\nwant %s", b, want)
	}
	r = Run(context.Background(), Options{Offline: true, GitConfig: gitZ("gpg.format", "evil\x1b[31m")})
	if c := find(t, r, "git-format"); strings.Contains(c.Summary, "\x1b") {
		t.Errorf("an escape sequence reached the summary: %q", c.Summary)
	}
}
