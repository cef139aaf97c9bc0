//go:build e2e

package e2e

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The login tests get their identity the way a person does: real headless
// Chromium (Debian's /usr/bin/chromium, driven by playwright-core in
// hack/sigstore-local.d/browser/login.mjs) on the local issuer's real login
// and consent pages, the device flow approved on its real device pages, and
// a GitHub Actions token service that hands out tokens the issuer minted.
// hack/install-test-deps installs Chromium and playwright-core.

// browser is one headless Chromium login driver with its own profile, so
// that the test can tell its processes apart and wait for them to end.
type browser struct {
	t       *testing.T
	profile string
	report  string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	script := filepath.Join(repoRoot, "hack", "sigstore-local.d", "browser", "login.mjs")
	if _, err := os.Stat(filepath.Join(filepath.Dir(script), "node_modules", "playwright-core")); err != nil {
		t.Fatalf("playwright-core is not installed: run hack/install-test-deps (make test does): %v", err)
	}
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		t.Fatalf("Debian's chromium is not installed: run hack/install-test-deps (make test does): %v", err)
	}
	dir := t.TempDir()
	b := &browser{t: t, profile: filepath.Join(dir, "profile"), report: filepath.Join(dir, "report.json")}
	t.Cleanup(b.noneLeft) // runs before the temp dir is removed
	return b
}

// argv is the command line of the login driver.
func (b *browser) argv(flags ...string) []string {
	script := filepath.Join(repoRoot, "hack", "sigstore-local.d", "browser", "login.mjs")
	return append([]string{"node", script, "--profile", b.profile, "--report", b.report}, flags...)
}

// opener is a GITSIGN_URL_OPENER template that runs the driver.
func (b *browser) opener(flags ...string) string {
	var words []string
	for _, w := range b.argv(flags...) {
		words = append(words, "'"+w+"'")
	}
	return "GITSIGN_URL_OPENER=" + strings.Join(words, " ") + " {{.URL}}"
}

// run runs the driver directly (the person opening a URL by hand).
func (b *browser) run(url string, flags ...string) {
	b.t.Helper()
	argv := b.argv(append(flags, url)...)
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		b.t.Fatalf("browser: %v\n%s", err, out)
	}
}

// result reads the driver's report.
func (b *browser) result() map[string]any {
	b.t.Helper()
	// The driver writes its report after the success page loaded, which
	// can be a moment after gitsign got the callback and finished.
	var raw []byte
	var err error
	var m map[string]any
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if raw, err = os.ReadFile(b.report); err == nil {
			if err = json.Unmarshal(raw, &m); err == nil {
				return m
			}
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("no browser report: %v", err)
		}
	}
}

// noneLeft fails the test if Chromium or the driver is still running 15 s
// after the test, and kills them.
func (b *browser) noneLeft() {
	var left []int
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		left = processes(func(pid int, cmdline, _, _ string) bool { return strings.Contains(cmdline, b.profile) })
		if len(left) == 0 || time.Now().After(deadline) {
			break
		}
	}
	for _, pid := range left {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	if len(left) > 0 {
		b.t.Errorf("browser processes %v still running after the test", left)
	}
}

// processes lists the pids for which match(pid, cmdline, exe, cwd) holds.
func processes(match func(pid int, cmdline, exe, cwd string) bool) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmd, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		exe, _ := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		cwd, _ := os.Readlink(filepath.Join("/proc", e.Name(), "cwd"))
		if match(pid, strings.ReplaceAll(string(cmd), "\x00", " "), exe, cwd) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// loginRepo is newRepo for tests that must log in on every signature: the
// credential cache is off (and, in case, its agent's default socket under
// XDG_CACHE_HOME cannot be found).
func loginRepo(t *testing.T, env ...string) *repo {
	t.Helper()
	return newRepo(t, append([]string{"GITSIGN_CACHE=off", "XDG_CACHE_HOME=" + t.TempDir(), "GITSIGN_CREDENTIAL_CACHE="}, env...)...)
}

// signedAsAlice checks the commit at HEAD: its signature parses, names
// alice@example.test and verifies with openssl.
func signedAsAlice(t *testing.T, r *repo) {
	t.Helper()
	s := readSigned(t, r, "commit", "HEAD")
	s.opensslVerify(t)
	if log := r.readLog(); !strings.Contains(log, "signed as alice@example.test (issuer "+stackEnv(t, "GITSIGN_OIDC_ISSUER")+")") {
		t.Errorf("the log does not tell who signed:\n%s", log)
	}
}

// mustFail tries a signed commit that must fail with want in the log and
// leave no commit.
func mustFail(t *testing.T, r *repo, want string) {
	t.Helper()
	before := r.commitCount()
	os.WriteFile(filepath.Join(r.dir, "f"), []byte(time.Now().String()), 0o644)
	r.git("add", "f")
	start := time.Now()
	_, gitErr, err := r.run("git", "commit", "-S", "-m", "must not be created")
	if err == nil {
		t.Fatalf("git commit -S succeeded\n%s", r.readLog())
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("failing took %v", d)
	}
	if n := r.commitCount(); n != before {
		t.Errorf("%d commits, want %d", n, before)
	}
	if log := r.readLog(); !strings.Contains(log, want) || !strings.Contains(log, "gitsign: error: ") {
		t.Errorf("log does not say %q:\n%s", want, log)
	}
	if !strings.Contains(gitErr, "failed to sign") {
		t.Errorf("git does not report the failure:\n%s", gitErr)
	}
	noGitsignLeft(t, r)
}

// noGitsignLeft fails if a gitsign process is still running in r.
func noGitsignLeft(t *testing.T, r *repo) {
	t.Helper()
	var left []int
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		left = processes(func(_ int, _, exe, cwd string) bool { return exe == gitsignBin && cwd == r.dir })
		if len(left) == 0 || time.Now().After(deadline) {
			break
		}
	}
	if len(left) > 0 {
		t.Errorf("gitsign processes %v still running", left)
		for _, pid := range left {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// TestLoginBrowser: `git commit -S` with nothing but an issuer configured
// logs in through the browser (the URL opener says a browser exists, so the
// automatic choice is the browser flow even without a display), as alice.
// The browser prints on its stdout; that must not reach the signature.
func TestLoginBrowser(t *testing.T) {
	b := newBrowser(t)
	r := loginRepo(t, b.opener("--chatter"))
	r.commit("signed through the browser")
	signedAsAlice(t, r)
	rep := b.result()
	if rep["callbackTitle"] != "Signed in" || !strings.Contains(rep["callbackBody"].(string), "This tab closes in 6 s") {
		t.Errorf("the browser did not get the self-closing success page: %v", rep)
	}
	log := logStamp.ReplaceAllString(r.readLog(), "") // the lines as the terminal showed them
	for _, want := range []string{"Your browser will now be opened to:\n" + stackEnv(t, "GITSIGN_OIDC_ISSUER") + "/auth?", "Opening in existing browser session.", "browser-login: log in as alice"} {
		if !strings.Contains(log, want) {
			t.Errorf("the terminal did not show %q:\n%s", want, log)
		}
	}
	noGitsignLeft(t, r)
}

// TestLoginBrowserCannotOpen: the configured browser does not exist. The
// URL is on the terminal, so the person opens it by hand and the login
// completes; a person who does not and presses Ctrl-C instead gets a clean
// stop (see TestLoginInterrupted).
func TestLoginBrowserCannotOpen(t *testing.T) {
	b := newBrowser(t)
	r := loginRepo(t, "GITSIGN_URL_OPENER=/nonexistent/browser {{.URL}}")
	git := startCommit(t, r)
	url := waitLog(t, r, regexp.MustCompile(`Your browser will now be opened to:\n(\S+)\n`))
	waitLog(t, r, regexp.MustCompile(`(gitsign: could not open a browser: .*/nonexistent/browser.*\nOpen the URL above in a browser to continue\.)`))
	b.run(url)
	if err := git.wait(30 * time.Second); err != nil {
		t.Fatalf("git commit: %v\n%s", err, r.readLog())
	}
	signedAsAlice(t, r)
}

// TestLoginInterrupted: the callback never comes (the browser logs in but
// its redirect to gitsign is held back), then the person presses Ctrl-C.
// Also with a browser that cannot be opened.
func TestLoginInterrupted(t *testing.T) {
	for _, tc := range []struct {
		name   string
		opener func(b *browser) string
		wait   *regexp.Regexp
	}{
		{"callback never comes", func(b *browser) string { return b.opener("--callback", "hold") }, regexp.MustCompile(`browser-login: (holding the callback back)`)},
		{"browser cannot be opened", func(*browser) string { return "GITSIGN_URL_OPENER=/nonexistent/browser {{.URL}}" }, regexp.MustCompile(`(gitsign: could not open a browser)`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := loginRepo(t, tc.opener(newBrowser(t)))
			git := startCommit(t, r)
			url := waitLog(t, r, regexp.MustCompile(`redirect_uri=http%3A%2F%2Flocalhost%3A(\d+)%2F`))
			waitLog(t, r, tc.wait)
			git.interrupt()
			if err := git.wait(10 * time.Second); err == nil {
				t.Fatal("git commit succeeded")
			}
			// On the terminal (here the log) even when git, and with it
			// gitsign's stderr, is already gone.
			waitLog(t, r, regexp.MustCompile(`(gitsign: sign-in cancelled \(interrupt signal received\))`))
			noGitsignLeft(t, r)
			if n := r.commitCount(); n != 0 {
				t.Errorf("%d commits", n)
			}
			if c, err := net.DialTimeout("tcp", "127.0.0.1:"+url, time.Second); err == nil {
				c.Close()
				t.Errorf("the callback listener on port %s is still open", url)
			}
		})
	}
}

// TestLoginAttacks tampers with the real flow in the browser. Each attempt
// must fail with a clear reason and make no commit.
func TestLoginAttacks(t *testing.T) {
	b := newBrowser(t)
	codeFile := filepath.Join(t.TempDir(), "code")
	// A good login whose code an attacker keeps.
	r := loginRepo(t, b.opener("--save-code", codeFile))
	r.commit("a good login")
	signedAsAlice(t, r)

	for _, tc := range []struct {
		name  string
		flags []string
		want  string
	}{
		{"replayed code", []string{"--callback", "replay=" + codeFile}, "exchanging the authorization code"},
		{"ID token with another nonce", []string{"--set-param", "nonce=chosen-by-the-attacker"}, "ID token nonce does not match the login request"},
		{"code issued to another client", []string{"--set-param", "client_id=other-client"}, "exchanging the authorization code"},
		{"consent refused", []string{"--deny"}, "issuer refused the login: access_denied"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := loginRepo(t, newBrowser(t).opener(tc.flags...))
			mustFail(t, r, tc.want)
		})
	}
}

// TestLoginStrayCallbacks: what any local program can send to the
// callback port before the browser's request (the callback with a forged
// state, with none, a request for /favicon.ico) gets an error page and
// does not end the login; the genuine callback that follows completes it.
func TestLoginStrayCallbacks(t *testing.T) {
	b := newBrowser(t)
	r := loginRepo(t, b.opener("--callback", "stray-first"))
	r.commit("signed after stray callbacks")
	signedAsAlice(t, r)
	rep := b.result()
	strays, _ := rep["strays"].([]any)
	want := []struct {
		status float64
		says   string
	}{{400, "not the login gitsign is waiting for"}, {400, "not the login gitsign is waiting for"}, {404, "not found"}}
	if len(strays) != len(want) {
		t.Fatalf("stray requests: %v", rep)
	}
	for i, w := range want {
		s, _ := strays[i].(map[string]any)
		if body, _ := s["body"].(string); s["status"] != w.status || !strings.Contains(body, w.says) {
			t.Errorf("stray request %d (%v): got %v %q; want %v with %q", i, s["what"], s["status"], body, w.status, w.says)
		}
	}
	if rep["callbackStatus"] != float64(200) || !strings.Contains(rep["callbackBody"].(string), "Signed in") {
		t.Errorf("the genuine callback got %v: %v", rep["callbackStatus"], rep["callbackBody"])
	}
	noGitsignLeft(t, r)
}

// TestLoginDevice: over SSH without a display, the automatic choice is the
// device flow. The person approves the code shown on the terminal on the
// issuer's real device pages (in Chromium), or refuses it.
func TestLoginDevice(t *testing.T) {
	for _, deny := range []bool{false, true} {
		name := map[bool]string{false: "approved", true: "refused"}[deny]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := newBrowser(t)
			r := loginRepo(t, "DISPLAY=", "WAYLAND_DISPLAY=", "SSH_CONNECTION=127.0.0.1 50000 127.0.0.1 22")
			git := startCommit(t, r)
			uri := waitLog(t, r, regexp.MustCompile(`open this page in a browser on any device:\n\n    (\S+)\n`))
			code := waitLog(t, r, regexp.MustCompile(`and enter the code  ([A-Z0-9-]+)\n`))
			if !strings.Contains(r.readLog(), "gitsign: no browser can be opened here (this is an SSH session: SSH_CONNECTION is set)") {
				t.Errorf("the terminal does not say why the device flow is used:\n%s", r.readLog())
			}
			flags := []string{"--device", code}
			if deny {
				flags = append(flags, "--deny")
			}
			b.run(uri, flags...)
			err := git.wait(30 * time.Second)
			if deny {
				if err == nil || r.commitCount() != 0 || !strings.Contains(r.readLog(), "the sign-in was refused at the issuer") {
					t.Fatalf("refused device login: err=%v\n%s", err, r.readLog())
				}
				noGitsignLeft(t, r)
				return
			}
			if err != nil {
				t.Fatalf("git commit: %v\n%s", err, r.readLog())
			}
			signedAsAlice(t, r)
		})
	}
}

// TestLoginGitHubActions: in a GitHub Actions job the token comes from the
// job's token service, asked for audience sigstore with the request token.
// Here a local service hands out tokens the real issuer minted.
func TestLoginGitHubActions(t *testing.T) {
	good, otherAud := token(t), token(t, "--client", "other-client")
	var value string
	failWith := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "bearer job-request-token" || r.URL.Query().Get("audience") != "sigstore" || r.URL.Query().Get("api-version") != "2.0" {
			http.Error(w, "bad request", http.StatusUnauthorized)
			return
		}
		if failWith != 0 {
			http.Error(w, "injected failure", failWith)
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"count": "1", "value": value})
	}))
	defer srv.Close()
	env := []string{"ACTIONS_ID_TOKEN_REQUEST_URL=" + srv.URL + "/token?api-version=2.0", "ACTIONS_ID_TOKEN_REQUEST_TOKEN=job-request-token"}

	value = good
	r := loginRepo(t, env...)
	r.commit("signed in CI")
	signedAsAlice(t, r)

	value = otherAud
	mustFail(t, r, `the GitHub Actions token is for audience other-client, not the "sigstore" that was asked for`)
	failWith = http.StatusServiceUnavailable
	mustFail(t, r, "the GitHub Actions token service at "+srv.URL+"/token?api-version=2.0&audience=sigstore answered 503")
	for _, leak := range []string{"job-request-token", good, otherAud} {
		if strings.Contains(r.readLog(), leak) {
			t.Error("the log holds a secret")
		}
	}
}

// pending is a `git commit -S` running in the background.
type pending struct {
	t    *testing.T
	cmd  *exec.Cmd
	done chan error
}

// startCommit starts a signed commit in its own process group, as a
// terminal runs it (so that Ctrl-C reaches git and gitsign).
func startCommit(t *testing.T, r *repo) *pending {
	t.Helper()
	os.WriteFile(filepath.Join(r.dir, "f"), []byte(time.Now().String()), 0o644)
	r.git("add", "f")
	cmd := exec.Command("git", "commit", "-S", "-q", "-m", "signed in the background")
	cmd.Dir, cmd.Env = r.dir, r.env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &pending{t: t, cmd: cmd, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	return p
}

// interrupt sends SIGINT to the commit's process group, like Ctrl-C.
func (p *pending) interrupt() {
	if err := syscall.Kill(-p.cmd.Process.Pid, syscall.SIGINT); err != nil {
		p.t.Fatal(err)
	}
}

func (p *pending) wait(limit time.Duration) error {
	select {
	case err := <-p.done:
		return err
	case <-time.After(limit):
		p.t.Fatalf("git commit still running after %v", limit)
		return nil
	}
}

// waitLog waits for re to match gitsign's log and returns its first group.
// logStamp is the time at the start of a line of GITSIGN_LOG.
var logStamp = regexp.MustCompile(`(?m)^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z `)

func waitLog(t *testing.T, r *repo, re *regexp.Regexp) string {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		// Without the time each line of the log starts with, the text
		// reads as the terminal showed it.
		if m := re.FindStringSubmatch(logStamp.ReplaceAllString(r.readLog(), "")); m != nil {
			return m[1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("the log never matched %s:\n%s", re, r.readLog())
		}
	}
}
