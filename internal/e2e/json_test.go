//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/gitsign-dev/gitsign/internal/schemacheck"
)

// TestJSONOutputs: for a commit signed on the local stack just now,
// gitsign show --json and gitsign verify --json are valid under
// docs/schema and agree on the signer, the certificate, the mode and the
// log index; and the allowed-signers line show suggests, written to a
// file, is a policy under which verify accepts the commit.
func TestJSONOutputs(t *testing.T) {
	r := signersRepo(t)
	id := r.commit("JSON outputs")

	shown, errOut, err := r.run(gitsignBin, "show", "--json", id)
	if err != nil {
		t.Fatalf("gitsign show --json: %v\n%s", err, errOut)
	}
	schemacheck.Check(t, "show", []byte(shown))
	var show struct {
		Signer, Certificate, Log json.RawMessage
		Mode                     string
		AllowedSigners           []string
	}
	if err := json.Unmarshal([]byte(shown), &show); err != nil || len(show.AllowedSigners) != 1 {
		t.Fatalf("gitsign show --json: %v\n%s", err, shown)
	}

	r.writeFile(".gitsigners", strings.Join(show.AllowedSigners, "\n")+"\n")
	out := cliVerdict(t, r, 0, []string{"--json", "--allowed-signers", ".gitsigners", id})
	schemacheck.Check(t, "verify", []byte(out))
	var verified struct {
		Results []struct {
			Signer, Certificate json.RawMessage
			Mode, Rule          string
			Log                 struct{ Index int64 }
		}
	}
	if err := json.Unmarshal([]byte(out), &verified); err != nil || len(verified.Results) != 1 {
		t.Fatalf("gitsign verify --json: %v\n%s", err, out)
	}
	v := verified.Results[0]
	var shownLog struct{ Index int64 }
	json.Unmarshal(show.Log, &shownLog)
	if compact(v.Signer) != compact(show.Signer) || compact(v.Certificate) != compact(show.Certificate) ||
		v.Mode != show.Mode || v.Log.Index != shownLog.Index || v.Rule != ".gitsigners:1" {
		t.Errorf("show and verify disagree:\nshow %s\nverify %s", shown, out)
	}
}

// compact is a JSON value without its layout.
func compact(raw json.RawMessage) string {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return "invalid: " + err.Error()
	}
	return b.String()
}
