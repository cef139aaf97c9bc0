package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"hash"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The algorithms every run times (figure 1 compares with P-256).
const (
	P256 = "ECDSA-P256"
	P384 = "ECDSA-P384"
)

// msgSize is the size of the message each timed verification hashes: about
// a certificate's TBS or a log entry, so that hashing is counted too.
const msgSize = 1024

// algOf names the verification algorithm of a public key: ECDSA-<curve>
// (with the curve's usual hash), Ed25519 or RSA-<bits>.
func algOf(pub crypto.PublicKey) (string, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		return "ECDSA-" + strings.ReplaceAll(k.Curve.Params().Name, "-", ""), nil
	case ed25519.PublicKey:
		return "Ed25519", nil
	case *rsa.PublicKey:
		return "RSA-" + strconv.Itoa(k.N.BitLen()), nil
	default:
		return "", fmt.Errorf("unsupported key type %T", pub)
	}
}

// op is one verification of a valid signature by a key of the algorithm,
// hashing its message as a verifier must. It returns whether it verified.
type op func() bool

// newOps makes an op for each algorithm, each with a fresh key of that
// algorithm and a valid signature; verification costs the same for any
// key of the algorithm.
func newOps(algs map[string]bool) (map[string]op, error) {
	ops := map[string]op{}
	msg := make([]byte, msgSize)
	if _, err := rand.Read(msg); err != nil {
		return nil, err
	}
	for alg := range algs {
		o, err := newOp(alg, msg)
		if err != nil {
			return nil, err
		}
		if !o() {
			return nil, fmt.Errorf("%s: a valid signature did not verify", alg)
		}
		ops[alg] = o
	}
	return ops, nil
}

func newOp(alg string, msg []byte) (op, error) {
	switch {
	case strings.HasPrefix(alg, "ECDSA-"):
		var curve elliptic.Curve
		var newHash func() hash.Hash
		switch alg {
		case P256:
			curve, newHash = elliptic.P256(), sha256.New
		case P384:
			curve, newHash = elliptic.P384(), sha512.New384
		case "ECDSA-P521":
			curve, newHash = elliptic.P521(), sha512.New
		default:
			return nil, fmt.Errorf("unsupported algorithm %s", alg)
		}
		key, err := ecdsa.GenerateKey(curve, rand.Reader)
		if err != nil {
			return nil, err
		}
		sig, err := ecdsa.SignASN1(rand.Reader, key, digest(newHash, msg))
		if err != nil {
			return nil, err
		}
		pub := &key.PublicKey
		return func() bool { return ecdsa.VerifyASN1(pub, digest(newHash, msg), sig) }, nil
	case alg == "Ed25519":
		pub, key, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		sig := ed25519.Sign(key, msg)
		return func() bool { return ed25519.Verify(pub, msg, sig) }, nil
	case strings.HasPrefix(alg, "RSA-"):
		bits, err := strconv.Atoi(strings.TrimPrefix(alg, "RSA-"))
		if err != nil {
			return nil, fmt.Errorf("unsupported algorithm %s", alg)
		}
		key, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			return nil, err
		}
		sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest(sha256.New, msg))
		if err != nil {
			return nil, err
		}
		pub := &key.PublicKey
		return func() bool { return rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest(sha256.New, msg), sig) == nil }, nil
	default:
		return nil, fmt.Errorf("unsupported algorithm %s", alg)
	}
}

func digest(newHash func() hash.Hash, msg []byte) []byte {
	h := newHash()
	h.Write(msg)
	return h.Sum(nil)
}

// cost is what one operation took: wall time and CPU time (user+system
// of this process), in ns.
type cost struct{ wall, cpu float64 }

// measure times each op in interleaved rounds: one warm-up round (which
// also builds any per-process tables, such as P-384's), then rounds
// rounds in which each op runs for about round. It returns each op's
// median wall and CPU ns per operation over the rounds.
func measure(ops map[string]op, rounds int, round time.Duration) map[string]cost {
	names := make([]string, 0, len(ops))
	for name := range ops {
		names = append(names, name)
	}
	sort.Strings(names)
	walls, cpus := map[string][]float64{}, map[string][]float64{}
	for r := -1; r < rounds; r++ {
		for _, name := range names {
			c := timeOp(ops[name], round)
			if r >= 0 {
				walls[name] = append(walls[name], c.wall)
				cpus[name] = append(cpus[name], c.cpu)
			}
		}
	}
	out := map[string]cost{}
	for _, name := range names {
		out[name] = cost{wall: median(walls[name]), cpu: median(cpus[name])}
	}
	return out
}

// timeOp runs o for at least d of wall time (and at least twice) and
// returns its cost per operation.
func timeOp(o op, d time.Duration) cost {
	n := 0
	cpu0 := cpuTime()
	start := time.Now()
	for {
		for range 2 {
			if !o() {
				panic("verification failed")
			}
		}
		n += 2
		if el := time.Since(start); el >= d {
			return cost{
				wall: float64(el.Nanoseconds()) / float64(n),
				cpu:  float64(cpuTime()-cpu0) / float64(n),
			}
		}
	}
}

func median(s []float64) float64 {
	s = append([]float64(nil), s...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
