package cli

import (
	"math"
	"os"
	"runtime/debug"
	"testing"
)

// TestGCSettings: oneShotGC and relaxGC set the collector only when the
// environment does not, and put back nothing else.
func TestGCSettings(t *testing.T) {
	restore := func() {
		debug.SetGCPercent(100)
		debug.SetMemoryLimit(math.MaxInt64)
	}
	t.Cleanup(restore)
	unset := func(t *testing.T, names ...string) {
		for _, n := range names {
			if v, ok := os.LookupEnv(n); ok {
				t.Cleanup(func() { os.Setenv(n, v) })
				os.Unsetenv(n)
			}
		}
	}
	// current reads the settings without changing them.
	current := func() (percent int, limit int64) {
		percent = debug.SetGCPercent(100)
		debug.SetGCPercent(percent)
		return percent, debug.SetMemoryLimit(-1)
	}

	t.Run("one shot", func(t *testing.T) {
		restore()
		unset(t, "GOGC", "GOMEMLIMIT")
		oneShotGC()
		if p, l := current(); p != -1 || l != oneShotMemoryLimit {
			t.Fatalf("GOGC %d, limit %d; want off and %d", p, l, oneShotMemoryLimit)
		}
	})
	t.Run("range", func(t *testing.T) {
		restore()
		unset(t, "GOGC", "GOMEMLIMIT")
		relaxGC()
		if p, l := current(); p != rangeGCPercent || l != math.MaxInt64 {
			t.Fatalf("GOGC %d, limit %d; want %d and none", p, l, rangeGCPercent)
		}
	})
	for _, env := range []string{"GOGC", "GOMEMLIMIT"} {
		t.Run(env+" set", func(t *testing.T) {
			restore()
			unset(t, "GOGC", "GOMEMLIMIT")
			t.Setenv(env, "100")
			oneShotGC()
			relaxGC()
			if p, l := current(); p != 100 || l != math.MaxInt64 {
				t.Fatalf("GOGC %d, limit %d: changed although %s is set", p, l, env)
			}
		})
	}
}
