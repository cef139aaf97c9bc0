package allowedsigners

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/gitsign-dev/gitsign/verify"
)

// The worst files Parse accepts, and the one the bounds were made for.
// Each benchmark parses the file and compiles its rules as a verifier
// does (verify.Policy.Complete; verify.New compiles the same way once
// more); the /verify ones go on to verify a real commit through the
// file, as git's helper path does once per commit:
//
//	go test -run '^$' -bench WorstCase -benchmem ./internal/allowedsigners

// fillFile returns rules, then as many copies of filler as the file's
// bounds allow, then last (the line that accepts the real commit).
func fillFile(rules []string, filler, last string) string {
	var b strings.Builder
	for _, r := range rules {
		b.WriteString(r + "\n")
	}
	for n := len(rules); n < MaxLines-1 && b.Len()+len(filler)+1+len(last) <= MaxSize; n++ {
		b.WriteString(filler + "\n")
	}
	b.WriteString(last)
	return b.String()
}

// wildPattern is a pattern of n bytes with MaxWildcards stars spread
// through it, literal text between them.
func wildPattern(n int, c byte) string {
	seg := strings.Repeat(string(c), n/MaxWildcards-1) + "*"
	p := strings.Repeat(seg, MaxWildcards)
	return p + strings.Repeat(string(c), n-len(p))
}

const (
	realSigner = "billy@chainguard.dev https://accounts.google.com"
	exactLine  = "alice@example.com https://accounts.google.com"
)

// worstFiles are the files the benchmarks read.
func worstFiles() map[string]string {
	// The most compiling: long wildcard patterns up to MaxWildcardBytes,
	// or as many short ones as MaxWildcardPatterns allows; then exact
	// lines up to the file's bounds.
	var long, short []string
	for i := 0; i < MaxWildcardBytes/(2*MaxPatternBytes); i++ {
		long = append(long, wildPattern(MaxPatternBytes, 'x')+" "+wildPattern(MaxPatternBytes, 'y'))
	}
	n := MaxWildcardBytes / MaxWildcardPatterns
	for i := 0; i < MaxWildcardPatterns/2; i++ {
		short = append(short, wildPattern(n, 'x')+" "+wildPattern(n, 'y'))
	}
	return map[string]string{
		"long-wildcards":  fillFile(long, exactLine, realSigner),
		"short-wildcards": fillFile(short, exactLine, realSigner),
		"exact":           fillFile(nil, exactLine, realSigner),
	}
}

func BenchmarkWorstCase(b *testing.B) {
	// Issue 17: one line of *a*a*a... as long as the file may be took
	// 15 s and 1.5 GB to compile; it is now refused while parsing.
	b.Run("stars-line", func(b *testing.B) {
		data := []byte(strings.Repeat("*a", (MaxSize-20)/2) + " https://i")
		for b.Loop() {
			if _, err := Parse(data, "f"); err == nil {
				b.Fatal("accepted")
			}
		}
	})
	tm, _, err := verify.LoadTrust(verify.TrustOptions{})
	if err != nil {
		b.Fatal(err)
	}
	commit := realCommit(b)
	for name, file := range worstFiles() {
		data := []byte(file)
		b.Run(name+"/parse", func(b *testing.B) {
			for b.Loop() {
				if _, err := Parse(data, "f"); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/compile", func(b *testing.B) {
			b.ReportMetric(float64(len(data)), "file-bytes")
			for b.Loop() {
				f, err := Parse(data, "f")
				if err != nil {
					b.Fatal(err)
				}
				if err := (verify.Policy{Rules: f.Rules}).Complete(); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/verify", func(b *testing.B) {
			for b.Loop() {
				f, err := Parse(data, "f")
				if err != nil {
					b.Fatal(err)
				}
				v, err := verify.New(tm, verify.Options{Policy: verify.Policy{Rules: f.Rules}})
				if err != nil {
					b.Fatal(err)
				}
				res, err := v.Verify(context.Background(), commit.payload, commit.sig, func() (string, error) { return "", errors.New("not needed") })
				if err != nil || !res.PolicyChecked {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkWorstMatch: matching an identity against the patterns of a
// file, the part that grows with the identity's length. The worst
// patterns are a star and a long run of one letter, matched against an
// identity of that letter as long as a pattern may be: Go's regular
// expressions then follow a thread per position of the run, so each
// match costs the identity's length times the pattern's, and
// MaxWildcardBytes bounds the sum over a file. A real identity is a few
// hundred bytes at most; sigstore-go and verify match each rule up to
// twice.
func BenchmarkWorstMatch(b *testing.B) {
	for _, san := range []int{256, MaxPatternBytes} {
		var res []*regexp.Regexp
		for total := 0; total+san <= MaxWildcardBytes; total += san {
			_, re, err := compilePattern("identity", "*"+strings.Repeat("a", san-1))
			if err != nil {
				b.Fatal(err)
			}
			res = append(res, regexp.MustCompile(re))
		}
		identity := strings.Repeat("a", san-1) + "b"
		b.Run(fmt.Sprintf("identity-%d", san), func(b *testing.B) {
			for b.Loop() {
				for _, re := range res {
					if re.MatchString(identity) {
						b.Fatal("matched")
					}
				}
			}
		})
	}
}
