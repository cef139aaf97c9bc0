// Command mkrange makes a repository of gitsign-signed commits for the
// `gitsign verify` range benchmark (hack/bench/run).
//
// It logs in once against the configured Sigstore stack (Fulcio, OIDC
// issuer, Rekor: the GITSIGN_* variables of `hack/sigstore-local env`, with
// the ID token in SIGSTORE_ID_TOKEN), then signs every commit with the
// project's own signer in offline mode, so each signature embeds its log
// entry.
//
// The commits form a root commit and then -n more. With -chains 1 they are
// one linear chain. Every commit's parent id depends on the signature of its
// parent, so a chain can only be signed one commit at a time; with
// -chains K > 1 the -n commits are K chains of about n/K commits each,
// all growing from the root and signed side by side, joined at the top by
// one signed merge commit with K parents (that merge is one of the -n).
// Either way `ROOT..TIP` names exactly -n commits.
//
// Run it inside the stack's network namespace, from anywhere:
//
//	hack/sigstore-local exec env SIGSTORE_ID_TOKEN=... go run ./hack/bench/mkrange -repo DIR
//
// It writes the objects into DIR (a git repository it creates when
// missing), points refs/heads/bench at the tip and refs/tags/bench-root at
// the root, and prints "ROOT TIP" on stdout.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gitsign-dev/gitsign/gitsign"
	"github.com/gitsign-dev/gitsign/internal/config"
	"github.com/gitsign-dev/gitsign/internal/gitobj"
	"github.com/gitsign-dev/gitsign/oauth"
)

// emptyTree is the id of git's empty tree.
const emptyTree = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"

// base is the author and committer time of the root commit; commit N is
// N seconds later.
const base = 1785000000

type commit struct {
	id  string
	obj []byte
}

func main() {
	repo := flag.String("repo", "", "repository to write into (created when missing)")
	n := flag.Int("n", 1000, "commits after the root")
	chains := flag.Int("chains", 4, "chains signed side by side (1 = one linear chain)")
	timeout := flag.Duration("timeout", 30*time.Second, "timeout of each HTTP request")
	flag.Parse()
	if *repo == "" || *n < 1 || *chains < 1 || (*chains > 1 && *n < *chains+1) {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*repo, *n, *chains, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "mkrange:", err)
		os.Exit(1)
	}
}

func run(repo string, n, chains int, timeout time.Duration) error {
	ctx := context.Background()
	if err := os.MkdirAll(repo, 0o755); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(repo, ".git")); err != nil {
		if _, err := git(repo, nil, "init", "-q", "-b", "main"); err != nil {
			return err
		}
	}
	if _, err := git(repo, nil, "hash-object", "-t", "tree", "-w", "--stdin"); err != nil {
		return err
	}

	cfg, err := config.Load(ctx)
	if err != nil {
		return err
	}
	if cfg.RekorMode == gitsign.Online {
		return errors.New("the benchmark needs offline-mode signatures: unset GITSIGN_REKOR_MODE")
	}
	signer, err := gitsign.New(gitsign.Options{
		Fulcio:             cfg.Fulcio,
		Rekor:              cfg.Rekor,
		RekorVersion:       cfg.RekorVersion,
		TimestampAuthority: cfg.TimestampURL,
		Mode:               gitsign.Offline,
		Timeout:            timeout,
		Tokens:             tokens{cfg: cfg, timeout: timeout},
	})
	if err != nil {
		return err
	}
	t0 := time.Now()
	cred, tok, err := signer.Credential(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "mkrange: logged in as %s in %.1fs; certificate valid until %s\n",
		tok.Subject, time.Since(t0).Seconds(), cred.Leaf().NotAfter.UTC().Format(time.RFC3339))

	seq := 0
	var seqMu sync.Mutex
	next := func() int { seqMu.Lock(); defer seqMu.Unlock(); seq++; return seq }
	sign := func(parents []string, num int) (commit, error) {
		var p bytes.Buffer
		fmt.Fprintf(&p, "tree %s\n", emptyTree)
		for _, par := range parents {
			fmt.Fprintf(&p, "parent %s\n", par)
		}
		ts := base + num
		fmt.Fprintf(&p, "author Alice <alice@example.test> %d +0000\n", ts)
		fmt.Fprintf(&p, "committer Alice <alice@example.test> %d +0000\n", ts)
		fmt.Fprintf(&p, "\nmsg %d\n", num)
		sig, err := signer.Sign(ctx, cred, p.Bytes(), true)
		if err != nil {
			return commit{}, fmt.Errorf("signing commit %d: %w", num, err)
		}
		obj, _, err := gitobj.WithSignature(p.Bytes(), sig.PEM)
		if err != nil {
			return commit{}, err
		}
		return commit{id: gitobj.ID("commit", obj), obj: obj}, nil
	}

	t1 := time.Now()
	root, err := sign(nil, 0)
	if err != nil {
		return err
	}
	all := []commit{root}

	// Split the commits below the merge (all of them for one chain).
	body := n
	if chains > 1 {
		body = n - 1
	}
	lengths := make([]int, chains)
	for i := range lengths {
		lengths[i] = body / chains
		if i < body%chains {
			lengths[i]++
		}
	}
	results := make([][]commit, chains)
	errs := make([]error, chains)
	var wg sync.WaitGroup
	for c := range chains {
		wg.Add(1)
		go func() {
			defer wg.Done()
			prev := root.id
			for range lengths[c] {
				cm, err := sign([]string{prev}, next())
				if err != nil {
					errs[c] = err
					return
				}
				results[c] = append(results[c], cm)
				prev = cm.id
				if c == 0 && len(results[c])%100 == 0 {
					fmt.Fprintf(os.Stderr, "mkrange: chain 0: %d commits\n", len(results[c]))
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	tip := root
	var heads []string
	for _, r := range results {
		all = append(all, r...)
		if len(r) > 0 {
			heads = append(heads, r[len(r)-1].id)
			tip = r[len(r)-1]
		}
	}
	if chains > 1 {
		if tip, err = sign(heads, next()); err != nil {
			return err
		}
		all = append(all, tip)
	}
	elapsed := time.Since(t1)
	fmt.Fprintf(os.Stderr, "mkrange: signed %d commits (%d chains) in %.1fs, %.1f commits/s\n",
		len(all), chains, elapsed.Seconds(), float64(len(all))/elapsed.Seconds())
	if time.Now().After(cred.Leaf().NotAfter) {
		fmt.Fprintln(os.Stderr, "mkrange: note: signing outlasted the certificate (the signatures still verify: each log entry is within its validity)")
	}

	if err := writeObjects(repo, all); err != nil {
		return err
	}
	if _, err := git(repo, nil, "update-ref", "refs/heads/bench", tip.id); err != nil {
		return err
	}
	if _, err := git(repo, nil, "update-ref", "refs/tags/bench-root", root.id); err != nil {
		return err
	}
	fmt.Printf("%s %s\n", root.id, tip.id)
	return nil
}

// tokens gets the identity token the way the configuration says (with
// hack/sigstore-local, SIGSTORE_ID_TOKEN). Nothing is cached: mkrange logs
// in once per run.
type tokens struct {
	cfg     *config.Config
	timeout time.Duration
}

func (t tokens) Token(ctx context.Context) (*oauth.IDToken, error) {
	return oauth.Get(ctx, oauth.Options{
		Provider:  t.cfg.TokenProvider,
		Issuer:    t.cfg.Issuer,
		ClientID:  t.cfg.ClientID,
		TokenFile: t.cfg.TokenFile,
		Timeout:   t.timeout,
		Terminal:  os.Stderr,
		Notify:    func(n oauth.Notice) { fmt.Fprintf(os.Stderr, "mkrange: login: %+v\n", n) },
	})
}

// writeObjects stores the commits with one `git hash-object --stdin-paths`
// and checks git computed the same ids.
func writeObjects(repo string, all []commit) error {
	dir, err := os.MkdirTemp("", "mkrange")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var paths bytes.Buffer
	for i, c := range all {
		p := filepath.Join(dir, fmt.Sprintf("%d", i))
		if err := os.WriteFile(p, c.obj, 0o644); err != nil {
			return err
		}
		paths.WriteString(p + "\n")
	}
	out, err := git(repo, &paths, "hash-object", "-t", "commit", "-w", "--stdin-paths")
	if err != nil {
		return err
	}
	ids := strings.Fields(string(out))
	if len(ids) != len(all) {
		return fmt.Errorf("git hash-object wrote %d objects, want %d", len(ids), len(all))
	}
	for i, c := range all {
		if ids[i] != c.id {
			return fmt.Errorf("object %d: git computed %s, gitobj.ID %s", i, ids[i], c.id)
		}
	}
	return nil
}

func git(dir string, stdin *bytes.Buffer, args ...string) ([]byte, error) {
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	if stdin != nil {
		cmd.Stdin = stdin
	} else {
		cmd.Stdin = strings.NewReader("")
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git %s: %v: %s", args[0], err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}
