// Command floor measures the cryptographic floor of verifying gitsign
// signatures, for the benchmarks in hack/bench/run.
//
// It always times one verification of ECDSA P-256 and of ECDSA P-384 on
// this machine (hashing 1 KiB, then ecdsa.VerifyASN1), in interleaved
// rounds after a warm-up round, and prints the median over the rounds of
// the wall time and of the CPU time (user+system) per verification:
//
//	op ECDSA-P256 WALL_NS CPU_NS
//	op ECDSA-P384 WALL_NS CPU_NS
//
// Given -repo and revisions (as `git rev-list` takes them; put -- before
// them), it also reads the signature of every commit they name and works
// out, from each signature and the trusted root (-trusted-root), which
// signature verifications that commit genuinely needs: the CMS signature
// under the signer's key, each certificate of the chain from the signer's
// certificate up to (not including) the trust anchor, each SCT from a CT
// log the trusted root knows, the log entry's signed entry timestamp and
// checkpoint, and each RFC 3161 timestamp token with its authority's
// chain. It times each kind of key found as well and prints
//
//	signatures N certificates C checkpoints K
//	need PER_SIGNATURE ALGORITHM WHAT...
//	floor WALL_NS CPU_NS
//
// where PER_SIGNATURE is how many such verifications one signature needs
// on average, and floor is the sum over the list of PER_SIGNATURE times
// the measured cost of ALGORITHM, per signature. certificates and
// checkpoints count the distinct ones among the signatures (a range
// signed with one login has one certificate).
//
// Usage:
//
//	floor [-rounds 9] [-round 30ms] [-trusted-root FILE -repo DIR -- REVISION...]
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"time"
)

func main() {
	rounds := flag.Int("rounds", 9, "timing rounds (the figure is the median of the rounds)")
	round := flag.Duration("round", 30*time.Millisecond, "length of one timing round of one algorithm")
	trustedRoot := flag.String("trusted-root", "", "trusted_root.json the signatures verify under")
	repo := flag.String("repo", "", "git repository to read the signatures from")
	flag.Parse()
	if *rounds < 1 || *round <= 0 || (*repo == "") != (flag.NArg() == 0) || (*repo != "" && *trustedRoot == "") {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(os.Stdout, *trustedRoot, *repo, flag.Args(), *rounds, *round); err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
}

func run(w io.Writer, trustedRoot, repo string, revs []string, rounds int, round time.Duration) error {
	algs := map[string]bool{P256: true, P384: true}
	var sum *summary
	if repo != "" {
		tr, err := loadTrustedRoot(trustedRoot)
		if err != nil {
			return err
		}
		sigs, err := readSignatures(repo, revs)
		if err != nil {
			return err
		}
		if sum, err = summarize(sigs, tr); err != nil {
			return err
		}
		for _, n := range sum.needs {
			algs[n.alg] = true
		}
	}
	ops, err := newOps(algs)
	if err != nil {
		return err
	}
	costs := measure(ops, rounds, round)
	names := make([]string, 0, len(costs))
	for name := range costs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(w, "op %s %.0f %.0f\n", name, costs[name].wall, costs[name].cpu)
	}
	if sum == nil {
		return nil
	}
	fmt.Fprintf(w, "signatures %d certificates %d checkpoints %d\n", sum.signatures, sum.certificates, sum.checkpoints)
	var wall, cpu float64
	for _, n := range sum.needs {
		per := float64(n.count) / float64(sum.signatures)
		fmt.Fprintf(w, "need %.2f %s %s\n", per, n.alg, n.what)
		wall += per * costs[n.alg].wall
		cpu += per * costs[n.alg].cpu
	}
	fmt.Fprintf(w, "floor %.0f %.0f\n", wall, cpu)
	return nil
}
