//go:build e2e

package e2e

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Git servers for end-to-end push tests: real transports, as a team's
// server would run them. One directory of bare repositories is served by
// git daemon (--enable=receive-pack) and by smart HTTP: git http-backend
// run as CGI by lighttpd (installed by hack/install-test-deps), behind
// basic authentication so that the hooks see REMOTE_USER, which also
// enables receive-pack in http-backend. Both listen on 127.0.0.1 (the
// stack namespace's loopback: the tests run inside it) on free ports and
// are stopped when the test ends. Hooks inherit the servers' environment:
// the test's PATH, an empty HOME, no system git configuration, nothing of
// the stack's (a hook gets its settings from the repository's config).

const (
	// gitServerUser and gitServerPassword are the HTTP transport's one
	// account: its URLs carry them, and git http-backend runs with
	// REMOTE_USER=gitServerUser.
	gitServerUser     = "pusher"
	gitServerPassword = "push-secret"
)

// gitTransports names the transports of a gitServer, for tests that run
// once over each.
var gitTransports = []string{"git", "http"}

// gitServer is a running git daemon and lighttpd serving root.
type gitServer struct {
	t         *testing.T
	root      string   // the bare repositories, NAME.git
	dir       string   // configuration and logs
	env       []string // the servers' environment, which hooks inherit
	gitPort   int
	httpPort  int
	daemonLog string
	httpLog   string
}

// startGitServer starts both servers on a new directory of bare
// repositories (add them with bare); env is added to the servers'
// environment, and so to every hook's.
func startGitServer(t *testing.T, env ...string) *gitServer {
	t.Helper()
	if _, err := os.Stat("/usr/sbin/lighttpd"); err != nil {
		t.Fatalf("lighttpd is not installed: run hack/install-test-deps (%v)", err)
	}
	s := &gitServer{t: t, root: t.TempDir(), dir: t.TempDir()}
	home := filepath.Join(s.dir, "home")
	if err := os.MkdirAll(filepath.Join(s.dir, "htdocs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(home, 0o755); err != nil {
		t.Fatal(err)
	}
	s.env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "GIT_CONFIG_NOSYSTEM=1"}, env...)
	s.daemonLog = filepath.Join(s.dir, "daemon.log")
	s.httpLog = filepath.Join(s.dir, "lighttpd.log")

	s.gitPort = s.start("git daemon", s.daemonLog, func(port int) *exec.Cmd {
		return exec.Command("git", "daemon", "--reuseaddr", "--listen=127.0.0.1", "--port="+strconv.Itoa(port),
			"--base-path="+s.root, "--export-all", "--enable=receive-pack", "--informative-errors", "--verbose")
	})
	s.httpPort = s.start("lighttpd", s.httpLog, func(port int) *exec.Cmd {
		conf := filepath.Join(s.dir, "lighttpd.conf")
		if err := os.WriteFile(conf, []byte(s.lighttpdConf(port)), 0o644); err != nil {
			t.Fatal(err)
		}
		return exec.Command("/usr/sbin/lighttpd", "-D", "-f", conf)
	})
	return s
}

// lighttpdConf is lighttpd's configuration: /git/ runs git http-backend
// as CGI for any authenticated user (the recipe of git-http-backend(1)).
func (s *gitServer) lighttpdConf(port int) string {
	s.t.Helper()
	users := filepath.Join(s.dir, "users")
	if err := os.WriteFile(users, []byte(gitServerUser+":"+gitServerPassword+"\n"), 0o600); err != nil {
		s.t.Fatal(err)
	}
	backend, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		s.t.Fatalf("git --exec-path: %v", err)
	}
	env := append([]string{"GIT_PROJECT_ROOT=" + s.root, "GIT_HTTP_EXPORT_ALL=1"}, s.env...)
	var envConf []string
	for _, kv := range env {
		name, value, _ := strings.Cut(kv, "=")
		envConf = append(envConf, fmt.Sprintf("\t%s => %s,", lighttpdString(s.t, name), lighttpdString(s.t, value)))
	}
	return fmt.Sprintf(`server.modules = ("mod_alias", "mod_setenv", "mod_cgi", "mod_auth", "mod_authn_file")
server.bind = "127.0.0.1"
server.port = %d
server.document-root = %s
server.errorlog = %s
server.max-request-size = 0
alias.url = ("/git/" => %s)
$HTTP["url"] =~ "^/git/" {
	cgi.assign = ("" => "")
	setenv.add-environment = (
%s
	)
}
auth.backend = "plain"
auth.backend.plain.userfile = %s
auth.require = ("/git/" => ("method" => "basic", "realm" => "git", "require" => "valid-user"))
`, port, lighttpdString(s.t, filepath.Join(s.dir, "htdocs")), lighttpdString(s.t, s.httpLog+".errors"),
		lighttpdString(s.t, strings.TrimSpace(string(backend))+"/git-http-backend/"), strings.Join(envConf, "\n"),
		lighttpdString(s.t, users))
}

// lighttpdString quotes s for lighttpd's configuration, refusing what
// would need escaping there.
func lighttpdString(t *testing.T, s string) string {
	if strings.ContainsAny(s, "\"\\\n$") {
		t.Fatalf("%q cannot go into lighttpd's configuration as it is", s)
	}
	return `"` + s + `"`
}

// start runs the server cmd(port) makes on a free port until it accepts
// connections, trying other ports when it exits first (a port taken
// between choosing and binding it), and stops its process group at the
// test's end. It returns the port.
func (s *gitServer) start(name, logPath string, cmd func(port int) *exec.Cmd) int {
	s.t.Helper()
	var lastErr error
	for range 5 {
		port := freePort(s.t)
		c := cmd(port)
		c.Dir, c.Env = s.dir, s.env
		c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		log, err := os.Create(logPath)
		if err != nil {
			s.t.Fatal(err)
		}
		c.Stdout, c.Stderr = log, log
		if err := c.Start(); err != nil {
			log.Close()
			s.t.Fatalf("starting %s: %v", name, err)
		}
		log.Close()
		done := make(chan error, 1)
		go func() { done <- c.Wait() }()
		stop := func() {
			syscall.Kill(-c.Process.Pid, syscall.SIGTERM)
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
				<-done
			}
		}
		if lastErr = waitListening(port, done); lastErr == nil {
			s.t.Cleanup(stop)
			return port
		}
		stop()
		b, _ := os.ReadFile(logPath)
		lastErr = fmt.Errorf("%w\n%s", lastErr, b)
	}
	s.t.Fatalf("%s did not start: %v", name, lastErr)
	return 0
}

// freePort is a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitListening waits until 127.0.0.1:port accepts a connection, for 10
// seconds at most, or until done reports that the server exited.
func waitListening(port int, done chan error) error {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			done <- err // for stop
			return fmt.Errorf("exited during start-up: %v", err)
		default:
		}
		if c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return errors.New("not listening after 10 s")
}

// url is the URL of repository NAME.git over transport "git" (git
// daemon) or "http" (lighttpd, with the account in the URL).
func (s *gitServer) url(transport, name string) string {
	s.t.Helper()
	switch transport {
	case "git":
		return fmt.Sprintf("git://127.0.0.1:%d/%s.git", s.gitPort, name)
	case "http":
		return fmt.Sprintf("http://%s:%s@127.0.0.1:%d/git/%s.git", gitServerUser, gitServerPassword, s.httpPort, name)
	}
	s.t.Fatalf("no transport %q", transport)
	return ""
}

// bare creates the bare repository NAME.git (default branch main) with
// hooks/pre-receive running hook (a shell script; none when empty), and
// returns its directory.
func (s *gitServer) bare(name, hook string) string {
	s.t.Helper()
	dir := filepath.Join(s.root, name+".git")
	s.git(s.root, "init", "-q", "--bare", "-b", "main", dir)
	if hook != "" {
		if err := os.WriteFile(filepath.Join(dir, "hooks", "pre-receive"), []byte(hook), 0o755); err != nil {
			s.t.Fatal(err)
		}
	}
	return dir
}

// git runs git in dir with the servers' environment, as a server
// administrator would, and returns its output.
func (s *gitServer) git(dir string, args ...string) string {
	s.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir, cmd.Env = dir, s.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		s.t.Fatalf("server: git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// logs returns what the servers logged, for failure messages.
func (s *gitServer) logs() string {
	var b strings.Builder
	for _, f := range []string{s.daemonLog, s.httpLog, s.httpLog + ".errors"} {
		data, _ := os.ReadFile(f)
		fmt.Fprintf(&b, "--- %s\n%s", filepath.Base(f), data)
	}
	return b.String()
}

// pushClient is a work tree with an author and no signing, for pushing.
func pushClient(t *testing.T) *repo {
	t.Helper()
	r := bareRepo(t)
	r.git("config", "user.name", "Alice")
	r.git("config", "user.email", "alice@example.test")
	r.git("config", "commit.gpgsign", "false")
	r.git("checkout", "-q", "-b", "main")
	return r
}

// push runs git push with args and returns its output (stderr, where the
// remote: lines are) and whether it succeeded.
func (r *repo) push(args ...string) (string, bool) {
	r.t.Helper()
	out, errOut, err := r.run("git", append([]string{"push", "--porcelain"}, args...)...)
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			r.t.Fatalf("git push %s: %v", strings.Join(args, " "), err)
		}
	}
	return out + errOut, err == nil
}

// TestGitServer: both transports push to a bare repository through its
// pre-receive hook: the hook's stderr reaches the pusher as remote:
// lines, its exit status refuses or accepts the push, and over HTTP the
// hook sees the authenticated user as REMOTE_USER.
func TestGitServer(t *testing.T) {
	const hook = `#!/bin/sh
echo "hook: REMOTE_USER=${REMOTE_USER:-unset}" >&2
while read old new ref; do
	if [ "$ref" = refs/heads/refuse-me ]; then
		echo "hook: no pushes to $ref" >&2
		exit 1
	fi
done
`
	s := startGitServer(t)
	for _, tr := range gitTransports {
		t.Run(tr, func(t *testing.T) {
			bare := s.bare("selftest-"+tr, hook)
			c := pushClient(t)
			c.git("commit", "-q", "--allow-empty", "-m", "first")
			head := strings.TrimSpace(c.git("rev-parse", "HEAD"))
			url := s.url(tr, "selftest-"+tr)

			out, ok := c.push(url, "HEAD:refs/heads/refuse-me")
			if ok || !strings.Contains(out, "remote: hook: no pushes to refs/heads/refuse-me") ||
				!strings.Contains(out, "pre-receive hook declined") {
				t.Errorf("push to refuse-me: success %v, want refused with the hook's line:\n%s\n%s", ok, out, s.logs())
			}
			if got := s.git(bare, "for-each-ref"); got != "" {
				t.Errorf("refs on the server after a refused push:\n%s", got)
			}

			out, ok = c.push(url, "main")
			if !ok {
				t.Fatalf("push to main refused:\n%s\n%s", out, s.logs())
			}
			if got := strings.TrimSpace(s.git(bare, "rev-parse", "refs/heads/main")); got != head {
				t.Errorf("the server's main is %s, want %s", got, head)
			}
			t.Logf("push over %s:\n%s", tr, out)
			user := "unset"
			if tr == "http" {
				user = gitServerUser
			}
			if want := "remote: hook: REMOTE_USER=" + user; !strings.Contains(out, want) {
				t.Errorf("push over %s lacks %q:\n%s", tr, want, out)
			}
		})
	}
}
