package tsa

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOtherTokens checks CheckTokenForm against timestamp tokens that
// other authorities issued: each DER TimeStampToken (*.der) in the
// directory GITSIGN_TSA_TOKENS names must be in form if its name starts
// with "accept-", and refused otherwise. None is kept in this repository
// (they are other projects' test data); collect them from Sigstore
// bundles' timestampVerificationData (without the TimeStampResp status
// wrapper) to check a change to the form rules. Skipped without the
// variable.
func TestOtherTokens(t *testing.T) {
	dir := os.Getenv("GITSIGN_TSA_TOKENS")
	if dir == "" {
		t.Skip("GITSIGN_TSA_TOKENS names no directory of tokens")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.der"))
	if len(files) == 0 {
		t.Fatalf("no *.der tokens in %s", dir)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		err = CheckTokenForm(b)
		want := strings.HasPrefix(filepath.Base(f), "accept-")
		t.Logf("%s: %v", filepath.Base(f), err)
		if (err == nil) != want {
			t.Errorf("%s: in form %v, want %v (%v)", filepath.Base(f), err == nil, want, err)
		}
	}
}
