package verify

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestWarmUpBesideFirstVerification runs, in a fresh process (the P-384
// table and the built-in root are built once per process, so this test
// process may have built them already), WarmUp and then at once a first
// verification, which needs both while WarmUp's goroutines build them.
// The verdicts must be those of a process that never warmed up: good for
// the real signature, refused for a changed body. Under -race the child
// is a race-enabled binary too, so a race between the two is reported.
func TestWarmUpBesideFirstVerification(t *testing.T) {
	if os.Getenv("GITSIGN_TEST_WARMUP_CHILD") == "1" {
		warmUpChild(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestWarmUpBesideFirstVerification$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "GITSIGN_TEST_WARMUP_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("warm-up child: verdicts as without warm-up")) {
		t.Fatalf("child process: %v\n%s", err, out)
	}
}

func warmUpChild(t *testing.T) {
	WarmUp(true)
	vec := load(t, filepath.Join(realworld, "commits", benchVector+".commit"), "commit", benchVector)
	v := builtinVerifier(t, billy)
	ctx := context.Background()
	res, err := v.Verify(ctx, vec.payload, vec.sig, noID)
	if err != nil {
		t.Fatalf("real signature refused after WarmUp: %v", err)
	}
	if res.Identity != "billy@chainguard.dev" {
		t.Fatalf("identity %q", res.Identity)
	}
	changed := bytes.Replace(vec.payload, []byte("\n\n"), []byte("\n\nX"), 1)
	if _, err := v.Verify(ctx, changed, vec.sig, noID); err == nil {
		t.Fatal("a changed body verified after WarmUp")
	}
	// WarmUp again does nothing new and changes nothing.
	WarmUp(true)
	if _, err := v.Verify(ctx, vec.payload, vec.sig, noID); err != nil {
		t.Fatalf("second verification: %v", err)
	}
	t.Log("warm-up child: verdicts as without warm-up")
}
