package syncbuf

import (
	"bytes"
	"strings"
	"sync"
	"testing"
)

// Concurrent writes each arrive whole, and Swap redirects later ones.
func TestWriterWholeWritesAndSwap(t *testing.T) {
	var first, second bytes.Buffer
	w := NewWriter(&first)
	if NewWriter(w) != w {
		t.Error("NewWriter wrapped a *Writer again")
	}
	line := strings.Repeat("x", 1000) + "\n"
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				w.Write([]byte(line))
			}
		}()
	}
	wg.Wait()
	for i, l := range strings.SplitAfter(first.String(), "\n") {
		if l != "" && l != line {
			t.Fatalf("line %d was torn: %d bytes", i, len(l))
		}
	}
	if first.Len() != 8*50*len(line) {
		t.Errorf("%d bytes written, want %d", first.Len(), 8*50*len(line))
	}
	w.Swap(&second)
	w.Write([]byte("later"))
	if w.Target() != &second || second.String() != "later" || first.Len() != 8*50*len(line) {
		t.Errorf("after Swap: target %p, second %q", w.Target(), second.String())
	}
}

func TestBufferConcurrent(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				b.Write([]byte("ab"))
				_ = b.String()
			}
		}()
	}
	wg.Wait()
	if len(b.String()) != 800 {
		t.Errorf("%d bytes, want 800", len(b.String()))
	}
}
