//go:build e2e

package e2e

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gitsign-dev/gitsign/internal/syncbuf"
)

// The credential cache end to end: the real agent binary, real git, the
// real local Sigstore stack, and (for the keyring) a real Secret Service.
// Nothing is mocked.

var (
	cacheAgentOnce sync.Once
	cacheAgentPath string
	cacheAgentErr  error
)

// cacheAgentBin builds gitsign-credential-cache next to the gitsign binary
// TestMain built (and removes).
func cacheAgentBin(t *testing.T) string {
	t.Helper()
	cacheAgentOnce.Do(func() {
		cacheAgentPath = filepath.Join(filepath.Dir(gitsignBin), "gitsign-credential-cache")
		build := exec.Command("go", "build", "-o", cacheAgentPath, "./cmd/gitsign-credential-cache")
		build.Dir = repoRoot
		out, err := build.CombinedOutput()
		if err != nil {
			cacheAgentErr = fmt.Errorf("building gitsign-credential-cache: %v\n%s", err, out)
		}
	})
	if cacheAgentErr != nil {
		t.Fatal(cacheAgentErr)
	}
	return cacheAgentPath
}

// cacheTempDir is a temporary directory with a short path (unix socket
// paths are limited to about 100 bytes) and the given mode.
func cacheTempDir(t *testing.T, mode os.FileMode) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "gsc")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, mode); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// cacheAgent is a running gitsign-credential-cache.
type cacheAgent struct {
	t    *testing.T
	cmd  *exec.Cmd
	sock string
	logs *syncbuf.Buffer
	done chan error
	// sockStays is set when the socket is not the agent's to remove.
	sockStays bool
}

// startCacheAgent runs the agent on sock and waits until it accepts
// connections. The test's clean-up stops it with SIGTERM and checks that
// it exits cleanly.
func startCacheAgent(t *testing.T, sock string) *cacheAgent {
	t.Helper()
	return startCacheAgentArgv(t, sock, cacheAgentBin(t))
}

// startCacheAgentArgv is startCacheAgent with the command to run (setpriv
// and a copy of the agent, to run it as another user).
func startCacheAgentArgv(t *testing.T, sock string, command ...string) *cacheAgent {
	t.Helper()
	argv := append([]string{}, command...)
	if !strings.HasSuffix(argv[len(argv)-1], "--systemd-socket-activation") {
		argv = append(argv, "--socket", sock)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "HOME="+filepath.Dir(sock))
	a := &cacheAgent{t: t, cmd: cmd, sock: sock, logs: &syncbuf.Buffer{}, done: make(chan error, 1)}
	cmd.Stderr = a.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { a.done <- cmd.Wait() }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		// A plain connect: as root the test reaches any user's socket.
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			break
		}
		select {
		case err := <-a.done:
			t.Fatalf("the agent exited: %v\n%s", err, a.logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the agent never listened on %s:\n%s", sock, a.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Cleanup(a.stop)
	return a
}

// stop ends the agent with SIGTERM: it must exit 0 and remove its socket.
func (a *cacheAgent) stop() {
	if a.cmd.ProcessState != nil || a.cmd.Process == nil {
		return
	}
	a.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-a.done:
		if err != nil {
			a.t.Errorf("the agent exited with %v after SIGTERM:\n%s", err, a.logs.String())
		}
		if _, err := os.Lstat(a.sock); !a.sockStays && !errors.Is(err, os.ErrNotExist) {
			a.t.Errorf("the agent left its socket behind: %v", err)
		}
	case <-time.After(10 * time.Second):
		a.cmd.Process.Kill()
		<-a.done
		a.t.Errorf("the agent did not stop on SIGTERM:\n%s", a.logs.String())
	}
}

// withEnv returns a copy of r whose commands also get env.
func (r *repo) withEnv(env ...string) *repo {
	c := *r
	c.env = append(append([]string{}, r.env...), env...)
	return &c
}

// cacheRepo is a repository that signs through the agent at sock and has
// no token source: a login fails at once unless SIGSTORE_ID_TOKEN is
// added for that command.
func cacheRepo(t *testing.T, sock string, env ...string) *repo {
	home := cacheTempDir(t, 0o700)
	return newRepo(t, append([]string{
		"GITSIGN_CREDENTIAL_CACHE=" + sock,
		"GITSIGN_TOKEN_PROVIDER=envvar",
		"XDG_CACHE_HOME=" + filepath.Join(home, "cache"),
	}, env...)...)
}

// unsignedCommits adds n commits without signatures.
func (r *repo) unsignedCommits(n int) {
	r.t.Helper()
	for i := range n {
		os.WriteFile(filepath.Join(r.dir, "file.txt"), []byte(fmt.Sprintf("change %d %d\n", i, time.Now().UnixNano())), 0o644)
		r.git("add", "file.txt")
		r.git("-c", "commit.gpgsign=false", "commit", "-q", "-m", fmt.Sprintf("change %d", i))
	}
}

// signatures reads the signature of each of the last n commits, newest
// first, checking each signature's embedded log entry against Rekor.
func (r *repo) signatures(n int) []*signed {
	r.t.Helper()
	revs := strings.Fields(r.git("rev-list", "-n", fmt.Sprint(n), "HEAD"))
	if len(revs) != n {
		r.t.Fatalf("%d commits; want %d", len(revs), n)
	}
	var out []*signed
	for _, rev := range revs {
		s := readSigned(r.t, r, "commit", rev)
		s.checkOfflineV1(r.t)
		out = append(out, s)
	}
	return out
}

func serial(s *signed) string { return s.cert.SerialNumber.String() }

// TestCacheRebase: with the agent running, one token-backed login, then a
// rebase that re-signs 50 commits with no token source at all. Every
// commit is signed with the one certificate, and each has its own entry
// in the transparency log.
func TestCacheRebase(t *testing.T) {
	sock := filepath.Join(cacheTempDir(t, 0o700), "agent", "cache.sock")
	a := startCacheAgent(t, sock)
	r := cacheRepo(t, sock)

	r.withEnv("SIGSTORE_ID_TOKEN=" + token(t)).commit("root, the one login")
	r.unsignedCommits(50)
	start := time.Now()
	r.git("-c", "commit.gpgsign=true", "rebase", "-q", "--force-rebase", "HEAD~50")
	t.Logf("re-signed 50 commits in %s", time.Since(start).Round(time.Millisecond))

	sigs := r.signatures(51)
	indexes := map[int64]bool{}
	for _, s := range sigs {
		if serial(s) != serial(sigs[len(sigs)-1]) {
			t.Errorf("commit %s was signed with certificate %s, not the one login's %s", s.id, serial(s), serial(sigs[len(sigs)-1]))
		}
		indexes[s.embeddedEntry(t).LogIndex] = true
	}
	if len(indexes) != 51 {
		t.Errorf("%d distinct log entries for 51 signatures", len(indexes))
	}
	if n := strings.Count(a.logs.String(), "stored a credential"); n != 1 {
		t.Errorf("the agent stored %d credentials; want 1:\n%s", n, a.logs.String())
	}
	if log := r.readLog(); strings.Contains(log, "warning") {
		t.Errorf("warnings during the rebase:\n%s", log)
	}

	// There really was no token source: with the cache emptied, the next
	// signature cannot log in.
	if out, _, err := r.run(gitsignBin, "cache", "clear"); err != nil || !strings.Contains(out, "cleared the agent") {
		t.Fatalf("gitsign cache clear: %v %s", err, out)
	}
	os.WriteFile(filepath.Join(r.dir, "file.txt"), []byte("after clear"), 0o644)
	r.git("add", "file.txt")
	if _, _, err := r.run("git", "commit", "-S", "-q", "-m", "no login possible"); err == nil {
		t.Error("a commit was signed with an empty cache and no token source")
	}
}

// TestCacheExplicitToken: a token in SIGSTORE_ID_TOKEN or the token file
// decides who signs, whatever the agent holds. With alice's credential
// cached, bob's token signs as bob, and his next commit reuses his new
// credential (one login for a rebase with an exported token); alice's
// token in a file then logs her in again, and a commit with no token at
// all takes what the cache holds last.
func TestCacheExplicitToken(t *testing.T) {
	sock := filepath.Join(cacheTempDir(t, 0o700), "agent", "cache.sock")
	a := startCacheAgent(t, sock)
	r := cacheRepo(t, sock)
	bob := r.withEnv("SIGSTORE_ID_TOKEN=" + token(t, "bob"))
	tokenFile := filepath.Join(t.TempDir(), "oidc-token")
	if err := os.WriteFile(tokenFile, []byte(token(t)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	r.withEnv("SIGSTORE_ID_TOKEN=" + token(t)).commit("alice logs in")
	bob.commit("bob's token, alice's credential cached")
	bob.commit("bob's token again")
	r.withEnv("GITSIGN_TOKEN_PROVIDER=filesystem", "GITSIGN_TOKEN_FILE="+tokenFile).commit("alice's token in a file")
	r.commit("no token")

	var sigs []*signed // newest first, each checked to be signed by its signer
	for i, signer := range []string{"alice", "alice", "bob", "bob", "alice"} {
		s := readSignedBy(t, r, "commit", fmt.Sprintf("HEAD~%d", i), signer+"@example.test")
		s.checkOfflineV1(t)
		sigs = append(sigs, s)
	}
	switch {
	case serial(sigs[3]) == serial(sigs[4]):
		t.Error("bob's first commit used alice's cached certificate")
	case serial(sigs[2]) != serial(sigs[3]):
		t.Error("bob's second commit did not use the credential his first one cached")
	case serial(sigs[1]) == serial(sigs[2]) || serial(sigs[1]) == serial(sigs[4]):
		t.Error("alice's token file did not log her in again")
	case serial(sigs[0]) != serial(sigs[1]):
		t.Error("the commit without a token did not use the credential cached last")
	}
	if n := strings.Count(a.logs.String(), "stored a credential"); n != 3 {
		t.Errorf("the agent stored %d credentials; want 3 (alice, bob, alice):\n%s", n, a.logs.String())
	}
	if log := r.readLog(); strings.Contains(log, "warning") {
		t.Errorf("warnings:\n%s", log)
	}
}

// TestCacheParallel: 20 git commit -S at once in 20 repositories sharing
// one agent, first with a token (20 concurrent logins and stores), then
// without one (20 concurrent cache hits).
func TestCacheParallel(t *testing.T) {
	sock := filepath.Join(cacheTempDir(t, 0o700), "agent", "cache.sock")
	a := startCacheAgent(t, sock)
	repos := make([]*repo, 20)
	for i := range repos {
		repos[i] = cacheRepo(t, sock)
	}
	tok := token(t)
	round := func(env ...string) map[string]bool {
		errs := make([]error, len(repos))
		var wg sync.WaitGroup
		for i, r := range repos {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := r.withEnv(env...)
				os.WriteFile(filepath.Join(r.dir, "file.txt"), []byte(time.Now().String()), 0o644)
				if _, e, err := r.run("git", "add", "file.txt"); err != nil {
					errs[i] = fmt.Errorf("git add: %v %s", err, e)
					return
				}
				if _, e, err := r.run("git", "commit", "-S", "-q", "-m", "parallel"); err != nil {
					errs[i] = fmt.Errorf("git commit -S: %v %s\n%s", err, e, r.readLog())
				}
			}()
		}
		wg.Wait()
		serials := map[string]bool{}
		for i, r := range repos {
			if errs[i] != nil {
				t.Fatalf("repository %d: %v", i, errs[i])
			}
			s := readSigned(t, r, "commit", "HEAD")
			serials[serial(s)] = true
		}
		return serials
	}
	start := time.Now()
	first := round("SIGSTORE_ID_TOKEN=" + tok)
	t.Logf("20 parallel commits with logins: %s, %d credentials stored, %d certificates used",
		time.Since(start).Round(time.Millisecond), strings.Count(a.logs.String(), "stored a credential"), len(first))
	start = time.Now()
	second := round()
	t.Logf("20 parallel commits from the cache: %s", time.Since(start).Round(time.Millisecond))
	if len(second) != 1 {
		t.Errorf("the cached round used %d certificates; want 1", len(second))
	}
	for s := range second {
		if !first[s] {
			t.Errorf("the cached round used certificate %s, which no login made", s)
		}
	}
	for _, r := range repos {
		if log := r.readLog(); strings.Contains(log, "warning") || strings.Contains(log, "error") {
			t.Errorf("%s:\n%s", r.dir, log)
		}
	}
	if strings.Contains(a.logs.String(), "level=WARN") {
		t.Errorf("agent warnings:\n%s", a.logs.String())
	}
}

// TestCacheAgentKilled: the agent is killed in the middle of a rebase.
// The commits after that log in again (a token is available) and the
// rebase completes; a warning says why. An agent that hangs costs its
// timeout, not the commit.
func TestCacheAgentKilled(t *testing.T) {
	sock := filepath.Join(cacheTempDir(t, 0o700), "agent", "cache.sock")
	a := startCacheAgent(t, sock)
	r := cacheRepo(t, sock, "SIGSTORE_ID_TOKEN="+token(t))
	r.commit("root")
	r.unsignedCommits(6)

	counter := filepath.Join(t.TempDir(), "count")
	os.WriteFile(counter, []byte("0"), 0o600)
	script := fmt.Sprintf(`n=$(($(cat %[1]s) + 1)); echo $n > %[1]s; if [ $n -eq 3 ]; then kill -KILL %[2]d; fi`, counter, a.cmd.Process.Pid)
	start := time.Now()
	r.git("-c", "commit.gpgsign=true", "rebase", "-q", "--force-rebase", "--exec", script, "HEAD~6")
	t.Logf("rebase with the agent killed after 3 of 6 commits: %s", time.Since(start).Round(time.Millisecond))
	<-a.done // the agent is gone

	sigs := r.signatures(7) // newest first: 3 after the kill, 3 before, the root
	cached := serial(sigs[6])
	for i, s := range sigs {
		if got := serial(s) == cached; got != (i >= 3) {
			t.Errorf("commit %d from the top: signed with the cached certificate = %v; want %v", i, got, i >= 3)
		}
	}
	seen := map[string]bool{}
	for _, s := range sigs[:3] {
		seen[serial(s)] = true
	}
	if len(seen) != 3 {
		t.Errorf("the 3 commits after the kill share certificates: %v", seen)
	}
	if n := strings.Count(r.readLog(), "credential cache agent at "+sock); n != 3 {
		t.Errorf("%d warnings about the dead agent; want one per commit after the kill:\n%s", n, r.readLog())
	}

	// An agent that accepts connections but never answers (stopped).
	sock2 := filepath.Join(cacheTempDir(t, 0o700), "agent", "cache.sock")
	hung := startCacheAgent(t, sock2)
	hung.cmd.Process.Signal(syscall.SIGSTOP)
	defer hung.cmd.Process.Signal(syscall.SIGCONT)
	r2 := cacheRepo(t, sock2, "SIGSTORE_ID_TOKEN="+token(t))
	start = time.Now()
	r2.commit("agent hung")
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("a hung agent made the commit take %s", d)
	} else {
		t.Logf("a commit with a hung agent took %s", d.Round(time.Millisecond))
	}
	if log := r2.readLog(); strings.Count(log, "gitsign: warning: ") != 1 || !strings.Contains(log, "timeout") {
		t.Errorf("want one timeout warning:\n%s", log)
	}
	hung.cmd.Process.Signal(syscall.SIGCONT)
}

// TestCacheSystemdActivation: the agent started the way the units in
// contrib/systemd start it, by systemd's own socket activation tool
// (systemd-socket-activate passes the listening socket as fd 3 with
// LISTEN_FDS and LISTEN_PID, as systemd does).
func TestCacheSystemdActivation(t *testing.T) {
	activate, err := exec.LookPath("systemd-socket-activate")
	if err != nil {
		t.Fatal("systemd-socket-activate is not installed (Debian package systemd)")
	}
	sock := filepath.Join(cacheTempDir(t, 0o700), "cache.sock")
	a := startCacheAgentArgv(t, sock, activate, "-l", sock, cacheAgentBin(t), "--systemd-socket-activation")
	a.sockStays = true // systemd's socket, not the agent's
	r := cacheRepo(t, sock)
	r.withEnv("SIGSTORE_ID_TOKEN=" + token(t)).commit("login")
	r.commit("from the socket-activated agent")
	sigs := r.signatures(2)
	if serial(sigs[0]) != serial(sigs[1]) {
		t.Error("the second commit did not use the cached credential")
	}
	if !strings.Contains(a.logs.String(), "stored a credential") {
		t.Errorf("agent log:\n%s", a.logs.String())
	}
}
