//go:build e2e

package e2e

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitsign-dev/gitsign/cache"
)

// nobody returns the setpriv prefix that runs a command as user nobody,
// and nobody's uid.
func nobody(t *testing.T) ([]string, int) {
	t.Helper()
	if os.Getuid() != 0 {
		t.Fatal("the other-user tests run as root (make test does)")
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Fatal("setpriv (util-linux) is needed to run as another user")
	}
	var uid int
	if _, err := fmt.Sscan(u.Uid, &uid); err != nil {
		t.Fatal(err)
	}
	return []string{"setpriv", "--reuid=" + u.Uid, "--regid=" + u.Gid, "--clear-groups", "--"}, uid
}

// publicBins copies gitsign and the agent where another user can run them
// (the build directory is root's and 0700).
func publicBins(t *testing.T) (gitsign, agent string) {
	t.Helper()
	dir := cacheTempDir(t, 0o755)
	for _, src := range []string{gitsignBin, cacheAgentBin(t)} {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(src)), b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "gitsign"), filepath.Join(dir, "gitsign-credential-cache")
}

// asUser runs argv through prefix with env and stdin; it returns stdout,
// stderr and the error.
func asUser(prefix []string, env []string, stdin string, argv ...string) (string, string, error) {
	full := append(append([]string{}, prefix...), argv...)
	cmd := exec.Command(full[0], full[1:]...)
	cmd.Env = env
	cmd.Dir = "/"
	cmd.Stdin = strings.NewReader(stdin)
	var out, errs strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errs
	err := cmd.Run()
	return out.String(), errs.String(), err
}

// pipeConn is a child process's stdin and stdout as one stream.
type pipeConn struct {
	io.Reader
	io.Writer
}

// rawGet asks the agent at sock for key through socat run via prefix: a
// client that does none of gitsign's checks, so that only the agent's
// own defences stand.
func rawGet(t *testing.T, prefix []string, sock string, key cache.Key) (*cache.Credential, error) {
	t.Helper()
	argv := append(append([]string{}, prefix...), "socat", "-t2", "STDIO", "UNIX-CONNECT:"+sock)
	cmd := exec.Command(argv[0], argv[1:]...)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errs strings.Builder
	cmd.Stderr = &errs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c, getErr := cache.NewClient(pipeConn{out, in}).Get(key)
	in.Close()
	cmd.Wait()
	if getErr != nil {
		getErr = fmt.Errorf("%w (socat: %q)", getErr, errs.String())
	}
	return c, getErr
}

// TestCacheOtherUser: user nobody cannot get root's credential from
// root's agent, neither through gitsign nor with a raw client once the
// file permissions are opened up (the peer uid check alone then stands);
// and gitsign refuses an agent socket that belongs to someone else.
func TestCacheOtherUser(t *testing.T) {
	asNobody, nobodyUID := nobody(t)
	gitsignPub, agentPub := publicBins(t)
	payload := "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\nm\n"

	base := cacheTempDir(t, 0o700)
	sock := filepath.Join(base, "agent", "cache.sock")
	a := startCacheAgent(t, sock)
	r := cacheRepo(t, sock)
	r.withEnv("SIGSTORE_ID_TOKEN=" + token(t)).commit("root's login")
	key := cache.Key{Fulcio: stackEnv(t, "GITSIGN_FULCIO_URL"), Issuer: stackEnv(t, "GITSIGN_OIDC_ISSUER"), ClientID: stackEnv(t, "GITSIGN_OIDC_CLIENT_ID")}
	own, err := rawGet(t, nil, sock, key)
	if err != nil {
		t.Fatalf("root's own raw request: %v", err)
	}

	nobodyHome := cacheTempDir(t, 0o700)
	os.Chown(nobodyHome, nobodyUID, nobodyUID)
	env := append(baseEnv(t, nobodyHome), "GITSIGN_CREDENTIAL_CACHE="+sock, "GITSIGN_TOKEN_PROVIDER=envvar", "XDG_CACHE_HOME="+nobodyHome)

	// With the default permissions nobody cannot even reach the socket.
	out, errOut, err := asUser(asNobody, env, "", gitsignPub, "cache", "status")
	if err == nil || strings.Contains(out, "alice") || !strings.Contains(errOut, "permission denied") {
		t.Errorf("nobody's gitsign cache status: %v\n%s%s", err, out, errOut)
	}
	out, errOut, err = asUser(asNobody, env, payload, gitsignPub, "--status-fd=2", "-bsau", "x")
	if err == nil || out != "" {
		t.Errorf("nobody signed with root's agent: %v\n%s%s", err, out, errOut)
	}

	// Open the directories and the socket to everyone: now only the
	// agent's peer uid check stands between nobody and the key.
	for _, p := range []string{base, filepath.Dir(sock)} {
		os.Chmod(p, 0o755)
	}
	os.Chmod(sock, 0o666)
	if c, err := rawGet(t, asNobody, sock, key); err == nil || c != nil {
		t.Fatalf("nobody's raw request got %v, %v", c, err)
	}
	if !strings.Contains(a.logs.String(), "refused connection") || !strings.Contains(a.logs.String(), "uid 65534") && nobodyUID == 65534 {
		t.Errorf("the agent did not log the refusal:\n%s", a.logs.String())
	}
	if c, err := rawGet(t, nil, sock, key); err != nil || !c.Leaf().Equal(own.Leaf()) {
		t.Errorf("root lost its credential: %v", err)
	}
	// gitsign run by nobody refuses the socket itself: it is root's.
	_, errOut, err = asUser(asNobody, env, "", gitsignPub, "cache", "status")
	if err == nil || !strings.Contains(errOut, "belongs to uid 0") {
		t.Errorf("nobody's gitsign used root's socket: %v\n%s", err, errOut)
	}

	// The other way round: an agent run by nobody. root's gitsign will
	// not hand its new credential to it, and signs anyway.
	theirs := cacheTempDir(t, 0o755)
	theirDir := filepath.Join(theirs, "nobody")
	os.Mkdir(theirDir, 0o700)
	os.Chown(theirDir, nobodyUID, nobodyUID)
	theirSock := filepath.Join(theirDir, "cache.sock")
	na := startCacheAgentArgv(t, theirSock, append(append([]string{}, asNobody...), agentPub)...)
	r2 := cacheRepo(t, theirSock, "SIGSTORE_ID_TOKEN="+token(t))
	r2.commit("signed without the foreign agent")
	if log := r2.readLog(); !strings.Contains(log, "it belongs to uid "+fmt.Sprint(nobodyUID)) || strings.Count(log, "gitsign: warning: ") != 1 {
		t.Errorf("want one warning about the foreign socket:\n%s", log)
	}
	if strings.Contains(na.logs.String(), "stored a credential") {
		t.Errorf("root's credential reached nobody's agent:\n%s", na.logs.String())
	}
	nEnv := append(baseEnv(t, nobodyHome), "GITSIGN_CREDENTIAL_CACHE="+theirSock)
	out, errOut, err = asUser(asNobody, nEnv, "", gitsignPub, "cache", "status")
	if err != nil || !strings.Contains(out, "no credentials cached") {
		t.Errorf("nobody's agent holds something: %v\n%s%s", err, out, errOut)
	}
}
