package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gitsign-dev/gitsign/internal/gitobj"
	"github.com/gitsign-dev/gitsign/internal/gitrepo"
	"github.com/gitsign-dev/gitsign/internal/inspect"
	"github.com/gitsign-dev/gitsign/internal/printable"
	"github.com/gitsign-dev/gitsign/verify"
)

// mixedRange adds to the repository of hermeticRepo a range BASE..main
// of good commits (the real-world vectors, signed against the public
// instance), bad ones (those vectors with a changed message, or a changed
// signature, and a commit the local stack signed, with an RFC 3161
// timestamp, which the public-good root does not accept) and unsigned
// ones, interleaved, with the policy that accepts the vectors' signer in
// git config. It returns BASE and the verdict each commit should get:
// "good", "bad" or "unsigned".
func mixedRange(t *testing.T) (string, map[string]string) {
	t.Helper()
	files, err := filepath.Glob("../../testdata/realworld/commits/*.commit")
	if err != nil || len(files) < 4 {
		t.Fatalf("real-world vectors: %v, %d", err, len(files))
	}
	var raws [][]byte
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		raws = append(raws, raw)
	}
	timestamped, err := os.ReadFile("testdata/show/rekor-v2.commit")
	if err != nil {
		t.Fatal(err)
	}
	hermeticRepo(t, gitobj.SHA1)
	base := runGit(t, "rev-parse", "HEAD")
	runGit(t, "config", "gitsign.certificateIdentity", "billy@chainguard.dev")
	runGit(t, "config", "gitsign.certificateOIDCIssuer", "https://accounts.google.com")

	want := map[string]string{}
	var signed []string // the vectors and their changed copies: their parents are not here
	store := func(raw []byte, verdict string) {
		f := filepath.Join(t.TempDir(), "c")
		if err := os.WriteFile(f, raw, 0o644); err != nil {
			t.Fatal(err)
		}
		id := runGit(t, "hash-object", "-t", "commit", "-w", "--literally", f)
		want[id] = verdict
		signed = append(signed, id)
	}
	for i, raw := range raws {
		store(raw, "good")
		switch i % 4 {
		case 1: // another message under the same signature
			store(append(bytes.TrimSuffix(raw, []byte("\n")), "!\n"...), "bad")
		case 2: // a changed signature: a letter in the third line of its armor
			at := bytes.Index(raw, []byte("\ngpgsig "))
			for range 3 {
				at += 1 + bytes.Index(raw[at+1:], []byte("\n "))
			}
			bad := bytes.Clone(raw)
			at += 10
			if bad[at] == 'A' {
				bad[at] = 'B'
			} else {
				bad[at] = 'A'
			}
			store(bad, "bad")
		}
	}
	store(timestamped, "bad")
	// git walks from a shallow commit no further: the vectors' parents
	// are in the public repository, not here.
	shallow := runGit(t, "rev-parse", "--git-path", "shallow")
	if err := os.WriteFile(shallow, []byte(strings.Join(signed, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		runGit(t, "-c", "user.name=a", "-c", "user.email=a@b", "commit", "-q", "--allow-empty", "-m", fmt.Sprintf("unsigned %d", i))
		want[runGit(t, "rev-parse", "HEAD")] = "unsigned"
	}
	args := []string{"-c", "user.name=a", "-c", "user.email=a@b", "commit-tree", "HEAD^{tree}", "-m", "merge", "-p", "HEAD"}
	for _, id := range signed {
		args = append(args, "-p", id)
	}
	merge := runGit(t, args...)
	want[merge] = "unsigned"
	runGit(t, "update-ref", "refs/heads/main", merge)
	return base, want
}

// runVerifyCmd runs gitsign verify with args and returns exit code,
// stdout and stderr.
func runVerifyCmd(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := run(append([]string{"verify"}, args...), streams{in: strings.NewReader(""), out: &stdout, err: &stderr})
	return code, stdout.String(), stderr.String()
}

// sequentialVerify is gitsign verify as it was before it streamed: every
// id first, then every object, then each verified in turn, then the
// output. It is the reference the streaming command must match.
func sequentialVerify(t *testing.T, jsonOut bool, args ...string) (int, string, string) {
	t.Helper()
	ctx := context.Background()
	var ids []string
	for _, a := range args {
		if strings.Contains(a, "..") {
			ids = append(ids, strings.Fields(runGit(t, "rev-list", a))...)
		} else {
			ids = append(ids, runGit(t, "rev-parse", a+"^{commit}"))
		}
	}
	objects, err := gitrepo.ReadObjects(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	policy, _, err := (&verifyFlags{}).policy(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	tm, err := loadTrust(cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	v, err := verify.New(tm, verify.Options{Policy: policy, Log: rekorLog(cfg)})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	reports := []objectReport{}
	failed := 0
	for _, o := range objects {
		r := verifyObject(ctx, v, o)
		reports = append(reports, r)
		if !r.Verified {
			failed++
			fmt.Fprintf(&out, "%s %s: FAILED: %s\n", r.Object, r.Type, printable.String(r.Error))
		} else {
			fmt.Fprintf(&out, "%s %s: good signature from %s (issuer %s), log index %d, %s, accepted by %s\n", r.Object, r.Type, printable.String(r.Identity), printable.String(r.Issuer), r.LogIndex, r.Time.UTC().Format(time.RFC3339), printable.String(r.Rule))
		}
	}
	if jsonOut {
		doc, err := json.MarshalIndent(documentOf(reports), "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		out.Reset()
		out.Write(printable.JSON(append(doc, '\n')))
	}
	if failed > 0 {
		return 1, out.String(), fmt.Sprintf("gitsign: error: %d of %d objects did not verify\n", failed, len(objects))
	}
	return 0, out.String(), ""
}

// withProcs runs f with GOMAXPROCS set to n: the number of workers that
// gitsign verify starts.
func withProcs(n int, f func()) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(n))
	f()
}

// TestVerifyRangeMatchesSequential: on a range that mixes good, bad and
// unsigned commits, gitsign verify prints, in text and in JSON, byte for
// byte what verifying one object after the other prints, with the same
// exit status, whether it runs one worker or many more than there are
// cores; and each commit gets its verdict, in the order git lists them.
func TestVerifyRangeMatchesSequential(t *testing.T) {
	base, want := mixedRange(t)
	rng := base + "..main"
	// A range, a revision and the range again: the stream crosses
	// arguments.
	args := []string{rng, "main~1", rng}
	var ids []string
	ids = append(ids, strings.Fields(runGit(t, "rev-list", rng))...)
	ids = append(ids, runGit(t, "rev-parse", "main~1"))
	ids = append(ids, strings.Fields(runGit(t, "rev-list", rng))...)
	if len(ids) < 30 {
		t.Fatalf("only %d commits", len(ids))
	}

	for _, jsonOut := range []bool{false, true} {
		cmdArgs := args
		if jsonOut {
			cmdArgs = append([]string{"--json"}, args...)
		}
		wantCode, wantOut, wantErr := sequentialVerify(t, jsonOut, args...)
		if wantCode != 1 {
			t.Fatalf("the reference run exits %d, want 1", wantCode)
		}
		for _, procs := range []int{1, 2, 8} {
			var code int
			var out, errs string
			withProcs(procs, func() { code, out, errs = runVerifyCmd(cmdArgs...) })
			if code != wantCode || out != wantOut || errs != wantErr {
				t.Errorf("json=%v, %d workers: exit %d, want %d\nstderr %q, want %q\nstdout:\n%s\nwant:\n%s", jsonOut, procs, code, wantCode, errs, wantErr, out, wantOut)
			}
			if jsonOut && procs == 1 {
				checkAgainstSchema(t, "verify", out) // real signatures, good and bad
			}
		}
		if jsonOut {
			var doc verifyDocument
			if err := json.Unmarshal([]byte(wantOut), &doc); err != nil || doc.Schema != jsonSchema {
				t.Fatalf("schema %d, %v", doc.Schema, err)
			}
			checkVerdicts(t, doc.Results, ids, want)
		}
	}
}

// checkVerdicts: the reports name ids in order, and each has the verdict
// want gives its commit.
func checkVerdicts(t *testing.T, reports []verifyResult, ids []string, want map[string]string) {
	t.Helper()
	var got []string
	counts := map[string]int{}
	for _, r := range reports {
		got = append(got, r.Object)
		verdict := "bad"
		switch {
		case r.Verified:
			verdict = "good"
		case r.Error == "commit is not signed":
			verdict = "unsigned"
		}
		counts[verdict]++
		if verdict != want[r.Object] {
			t.Errorf("%s: %s (%s), want %s", r.Object, verdict, r.Error, want[r.Object])
		}
	}
	if !slices.Equal(got, ids) {
		t.Errorf("reports for\n%v\nwant git's order\n%v", got, ids)
	}
	if counts["good"] == 0 || counts["bad"] == 0 || counts["unsigned"] == 0 {
		t.Errorf("not a mixed range: %v", counts)
	}
}

// documentOf is the JSON document of reports, made at once.
func documentOf(reports []objectReport) verifyDocument {
	doc := verifyDocument{Schema: jsonSchema, Results: []verifyResult{}}
	for _, r := range reports {
		doc.Results = append(doc.Results, r.result())
	}
	return doc
}

// TestVerifyRangeJSONStreams: --json writes each result as it is
// reported, before the range is done, and the whole is what
// json.MarshalIndent makes of the document (checked against the
// reference above); an empty range has "results": [].
func TestVerifyRangeJSONStreams(t *testing.T) {
	var buf bytes.Buffer
	w := &reportWriter{w: &buf, json: true}
	reports := []objectReport{
		{Object: "a", Type: "commit", Error: "x <y> & \u202e z"},
		{Object: "b", Type: "tag", Verified: true, Identity: "i\u0085", Issuer: "https://issuer", Time: time.Unix(1785000000, 5).UTC(), LogIndex: 7, Timestamped: true, Certificate: inspect.Certificate{Fingerprint: "abcd", Serial: "01"}, Rule: "r:1"},
		{Object: "c", Type: "commit", Online: true, Error: "\xff"},
	}
	for i, r := range reports {
		if err := w.write(r); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(buf.String(), `"object": "`+r.Object+`"`) {
			t.Fatalf("element %d not written when reported:\n%s", i, buf.String())
		}
	}
	if err := w.close(); err != nil {
		t.Fatal(err)
	}
	doc, _ := json.MarshalIndent(documentOf(reports), "", "  ")
	if want := string(printable.JSON(append(doc, '\n'))); buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}

	buf.Reset()
	w = &reportWriter{w: &buf, json: true}
	if err := w.close(); err != nil || buf.String() != "{\n  \"schema\": 1,\n  \"results\": []\n}\n" {
		t.Errorf("empty: %q, %v", buf.String(), err)
	}
	buf.Reset()
	w = &reportWriter{w: &buf}
	w.write(reports[0])
	if err := w.close(); err != nil || buf.String() != "a commit: FAILED: x <y> & \\u202e z\n" {
		t.Errorf("text: %q, %v", buf.String(), err)
	}
}

// BenchmarkVerifyRange runs gitsign verify over ranges of 1,000 and
// 10,000 unsigned commits the size of signed ones (each refused at once,
// so the pipeline, not the cryptography, is measured) and reports the largest live heap seen
// after a garbage collection during the run (peak-live-B): it should not
// grow with the range. go test -bench VerifyRange -run ^$ ./internal/cli
func BenchmarkVerifyRange(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("commits=%d", n), func(b *testing.B) {
			hermeticRepo(b, gitobj.SHA1)
			makeChain(b, n, 4000)
			args := []string{"verify", "--certificate-identity", "a@example.test", "--certificate-oidc-issuer", "https://issuer.example.test", "main..chain"}
			var peak uint64
			for b.Loop() {
				stop := sampleLiveHeap(&peak)
				var stderr bytes.Buffer
				code := run(args, streams{in: strings.NewReader(""), out: io.Discard, err: &stderr})
				stop()
				if want := fmt.Sprintf("gitsign: error: %d of %d objects did not verify\n", n, n); code != 1 || stderr.String() != want {
					b.Fatalf("exit %d: %s", code, stderr.String())
				}
			}
			b.ReportMetric(float64(peak), "peak-live-B")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/commit")
		})
	}
}

// sampleLiveHeap records in peak, until stop is called, the largest heap
// that the garbage collector found live.
func sampleLiveHeap(peak *uint64) (stop func()) {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	read := func() {
		metrics.Read(sample)
		if sample[0].Value.Kind() == metrics.KindUint64 {
			*peak = max(*peak, sample[0].Value.Uint64())
		}
	}
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				read()
			}
		}
	}()
	return func() { close(done); <-finished; runtime.GC(); read() }
}
