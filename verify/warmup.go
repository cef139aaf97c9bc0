package verify

import (
	"crypto/ecdh"
	"sync"
)

// WarmUp starts, on another goroutine, one-time work that a process's
// first verification does whatever it verifies, so that it overlaps with
// what the caller waits on before it can verify (git config, a log
// upload):
//
//   - withBuiltinRoot: the built-in trusted root is parsed (it is parsed
//     once per process anyway, and only read afterwards);
//   - Go builds its per-process table of multiples of the P-384 base point,
//     which the first P-384 signature check builds otherwise (about 1.5 ms
//     of CPU here). The public-good Fulcio chain is P-384, and so is the
//     local stack's; crypto/x509 checks it through the same table.
//
// Neither changes a result: each is what the first use computes, behind a
// sync.Once, and a verification that needs it before it is ready waits for
// it. When the process ends up using neither (another trusted root, no
// P-384 chain), the cost is that CPU, on a core that would mostly be idle
// while the caller waits. Each part is done at most once per process.
func WarmUp(withBuiltinRoot bool) {
	if withBuiltinRoot {
		rootOnce.Do(func() { go parseRootEarly() })
	}
	tableOnce.Do(func() { go buildP384Table() })
}

var rootOnce, tableOnce sync.Once

func parseRootEarly() { _, _ = builtinRoot() }

func buildP384Table() {
	// Any fixed scalar will do: NewPrivateKey computes the public key,
	// scalar times the base point, which builds the table on first use.
	// The key is thrown away.
	var scalar [48]byte
	scalar[47] = 1
	_, _ = ecdh.P384().NewPrivateKey(scalar[:])
}
