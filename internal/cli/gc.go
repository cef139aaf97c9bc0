package cli

import (
	"os"
	"runtime/debug"
)

// How gitsign's commands set the garbage collector, unless GOGC or
// GOMEMLIMIT says otherwise. Both settings only move when memory is
// collected; nothing is kept that would otherwise be freed.

// rangeGCPercent is the garbage collector's target while a range is
// verified. Each object allocates a few hundred KiB that is garbage as
// soon as its result is printed, while what stays live is bounded by the
// pipeline's window (a few MiB), so a collection every 100% of growth
// costs a third of the CPU (measured on 1,000 commits) and buys nothing.
// At 400% the heap stays a small, constant multiple of that window.
const rangeGCPercent = 400

// relaxGC sets rangeGCPercent.
func relaxGC() {
	if !gcTuned() {
		debug.SetGCPercent(rangeGCPercent)
	}
}

// oneShotMemoryLimit is where the collector starts in a process that git
// runs for one signature (signing, or --verify).
//
// Such a process allocates a few MiB and exits. By default its first
// collection starts at 4 MiB, in the middle of the one verification, and
// costs more CPU than the memory it frees is worth: without it, git
// verify-commit runs about 10% faster and signing uses about 10% less CPU,
// and peak RSS is not higher (measured with hack/bench's vector). So
// collection waits until the heap nears this soft limit. What one
// signature can make a process hold is bounded by its inputs (a 256 KiB
// signature, a 64 MiB payload); past the limit the collector runs as
// usual, so a large payload costs time, not unbounded memory.
const oneShotMemoryLimit = 256 << 20

// oneShotGC collects only near oneShotMemoryLimit.
func oneShotGC() {
	if !gcTuned() {
		debug.SetGCPercent(-1)
		debug.SetMemoryLimit(oneShotMemoryLimit)
	}
}

// gcTuned says whether the environment sets the collector.
func gcTuned() bool {
	_, gogc := os.LookupEnv("GOGC")
	_, limit := os.LookupEnv("GOMEMLIMIT")
	return gogc || limit
}
