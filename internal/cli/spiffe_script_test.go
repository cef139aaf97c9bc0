package cli

import (
	"os"
	"strings"
	"sync"

	"github.com/gitsign-dev/gitsign/internal/testspiffe"
	"github.com/rogpeppe/go-internal/testscript"
)

// scriptSPIREAgent is the testscript command
//
//	spire-agent [-refuse] SOCKET [SVIDFILE]
//
// which serves a stand-in SPIRE agent's Workload API (internal/testspiffe)
// on SOCKET until the script ends. It answers each request with the
// JWT-SVID in SVIDFILE, read when asked, or, with -refuse, as SPIRE
// answers a workload no registration entry matches. It appends each
// audience asked for to the file asked, a line each.
func scriptSPIREAgent(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! spire-agent")
	}
	refuse := len(args) > 0 && args[0] == "-refuse"
	if refuse {
		args = args[1:]
	}
	if len(args) != 2 && !(refuse && len(args) == 1) {
		ts.Fatalf("usage: spire-agent [-refuse] SOCKET [SVIDFILE]")
	}
	socket, asked := ts.MkAbs(args[0]), ts.MkAbs("asked")
	var svidFile string
	if len(args) == 2 {
		svidFile = ts.MkAbs(args[1])
	}
	var mu sync.Mutex // requests come on the server's goroutines
	srv, err := testspiffe.Serve(socket, func(aud string) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		if f, err := os.OpenFile(asked, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600); err == nil {
			f.WriteString(aud + "\n")
			f.Close()
		}
		if refuse {
			return "", testspiffe.ErrNoIdentity
		}
		b, err := os.ReadFile(svidFile)
		return strings.TrimSpace(string(b)), err
	})
	ts.Check(err)
	ts.Defer(srv.Close)
}
