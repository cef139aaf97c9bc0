package cli

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gitsign-dev/gitsign/internal/gitobj"
	"github.com/gitsign-dev/gitsign/internal/gitrepo"
	"github.com/gitsign-dev/gitsign/internal/testgit"
)

func makeChain(tb testing.TB, n, pad int) []string { tb.Helper(); return testgit.Chain(tb, n, pad) }

// children returns the processes this test process started that are
// still there, or skips the test where Linux does not say.
func children(t *testing.T) []string {
	t.Helper()
	files, _ := filepath.Glob("/proc/self/task/*/children")
	if len(files) == 0 {
		t.Skip("no /proc/self/task/*/children here")
	}
	var pids []string
	for _, f := range files {
		b, _ := os.ReadFile(f)
		pids = append(pids, strings.Fields(string(b))...)
	}
	return pids
}

// noChildrenLeft fails the test if a process the test started is still
// running or unreaped.
func noChildrenLeft(t *testing.T) {
	t.Helper()
	if pids := children(t); len(pids) != 0 {
		t.Errorf("processes left behind: %v", pids)
	}
}

// within runs f and fails the test if it does not return within a
// minute: the pipeline must never hang.
func within(t *testing.T, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("hung")
	}
}

// fakeCheck is a check that takes up to max to say an object verified
// unless its id is in bad, and counts how many checks have started.
func fakeCheck(started *atomic.Int64, maxDelay time.Duration, bad map[string]bool) func(context.Context, gitrepo.Object) objectReport {
	return func(_ context.Context, o gitrepo.Object) objectReport {
		started.Add(1)
		time.Sleep(rand.N(maxDelay + 1))
		r := objectReport{Object: o.ID, Type: o.Type, Verified: !bad[o.ID]}
		if bad[o.ID] {
			r.Error = "bad"
		}
		return r
	}
}

// TestVerifyStreamOrder: whatever order the workers finish in, reports
// come in git's order, every one once; and no more objects than the
// window (and one per worker, one in hand) are ever between the reader
// and the writer, however slow the writer.
func TestVerifyStreamOrder(t *testing.T) {
	hermeticRepo(t, gitobj.SHA1)
	ids := makeChain(t, 300, 0)
	bad := map[string]bool{ids[3]: true, ids[150]: true}
	for _, workers := range []int{1, 3, 16} {
		t.Run(fmt.Sprint(workers), func(t *testing.T) {
			src, err := commitSource(context.Background(), []string{"main..chain"})
			if err != nil {
				t.Fatal(err)
			}
			var started atomic.Int64
			var got []string
			most := int64(0)
			failed := 0
			within(t, func() {
				err = verifyStream(context.Background(), src, workers, fakeCheck(&started, 200*time.Microsecond, bad), func(r objectReport) error {
					got = append(got, r.Object)
					if !r.Verified {
						failed++
					}
					most = max(most, started.Load()-int64(len(got)-1))
					if len(got)%50 == 0 {
						time.Sleep(5 * time.Millisecond) // a slow reader of the output
					}
					return nil
				})
			})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, ids) {
				t.Errorf("reports out of git's order")
			}
			if failed != 2 {
				t.Errorf("%d failed, want 2", failed)
			}
			if limit := int64(workers*windowPerWorker + 2); most > limit {
				t.Errorf("%d objects at once, window %d", most, limit)
			}
			noChildrenLeft(t)
		})
	}
}

// TestVerifyStreamReadError: a git cat-file that answers "missing", or a
// git rev-list that dies in the middle, ends the stream with that error,
// once, after the reports of everything read before it, and leaves no
// process behind.
func TestVerifyStreamReadError(t *testing.T) {
	hermeticRepo(t, gitobj.SHA1)
	ids := makeChain(t, 40, 0)
	missing := strings.Repeat("0", 40)
	// A commit whose object is gone: git rev-list lists those above it
	// but its child (whose parents it reads before listing it), then
	// fails.
	gone := ids[5]
	if err := os.Remove(filepath.Join(runGit(t, "rev-parse", "--git-path", "objects"), gone[:2], gone[2:])); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		src   gitrepo.IDSource
		want  []string
		error string
	}{
		{"missing object", gitrepo.IDList(slices.Concat(ids[20:30], []string{missing}, ids[30:])), ids[20:30],
			fmt.Sprintf("git cat-file: asked for %s, got %q", missing, missing+" missing")},
		{"git rev-list dies", func(ctx context.Context, emit func(string) error) error {
			return gitrepo.RevList(ctx, []string{"chain"}, emit)
		}, ids[:4], "git rev-list: Could not read " + gone},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, workers := range []int{1, 4} {
				var started atomic.Int64
				var got []string
				var err error
				within(t, func() {
					err = verifyStream(context.Background(), c.src, workers, fakeCheck(&started, time.Millisecond, nil), func(r objectReport) error {
						got = append(got, r.Object)
						return nil
					})
				})
				if err == nil || !strings.HasPrefix(err.Error(), c.error) || strings.Contains(err.Error(), "\n") {
					t.Errorf("%d workers: error %v, want %q", workers, err, c.error)
				}
				if !slices.Equal(got, c.want) {
					t.Errorf("%d workers: reports for %v, want %v", workers, got, c.want)
				}
				noChildrenLeft(t)
			}
		})
	}
}

// TestVerifyStreamStops: when the output fails, or the context ends, in
// the middle of a long range, verifyStream returns that error at once
// with no further report, and every git process is gone.
func TestVerifyStreamStops(t *testing.T) {
	hermeticRepo(t, gitobj.SHA1)
	makeChain(t, 2000, 0)
	errOut := errors.New("output closed")
	for _, c := range []struct {
		name string
		want error
	}{{"emit fails", errOut}, {"context ends", context.Canceled}} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			src, err := commitSource(ctx, []string{"main..chain"})
			if err != nil {
				t.Fatal(err)
			}
			var started atomic.Int64
			calls := 0
			within(t, func() {
				err = verifyStream(ctx, src, 4, fakeCheck(&started, 100*time.Microsecond, nil), func(objectReport) error {
					calls++
					if calls < 10 {
						return nil
					}
					if c.want == errOut {
						return errOut
					}
					cancel()
					return nil
				})
			})
			if !errors.Is(err, c.want) || calls != 10 {
				t.Errorf("error %v after %d reports, want %v after 10", err, calls, c.want)
			}
			if n := started.Load(); n > 4*windowPerWorker+2+10 {
				t.Errorf("%d objects checked", n)
			}
			noChildrenLeft(t)
		})
	}
}
