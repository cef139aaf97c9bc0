package gitsign_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/gitsign-dev/gitsign/gitsign"
	"github.com/gitsign-dev/gitsign/oauth"
)

// envToken is a TokenSource: the identity token in SIGSTORE_ID_TOKEN.
type envToken struct{}

func (envToken) Token(ctx context.Context) (*oauth.IDToken, error) {
	return oauth.Get(ctx, oauth.Options{Provider: oauth.ProviderEnvVar})
}

// Sign a commit payload (what git hands to its signing program) against
// the public-good instance, as git's gpg.x509.program does.
func Example() {
	ctx := context.Background()
	payload := []byte("tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n" +
		"author Alice <alice@example.com> 1785000000 +0000\n" +
		"committer Alice <alice@example.com> 1785000000 +0000\n\nmessage\n")

	s, err := gitsign.New(gitsign.Options{
		Fulcio: "https://fulcio.sigstore.dev",
		Rekor:  "https://rekor.sigstore.dev",
		Tokens: envToken{},
		Progress: func(step string) func(error) {
			fmt.Fprintln(os.Stderr, step+"...")
			return func(error) {}
		},
	})
	if err != nil {
		log.Fatal(err) // settings that cannot work together
	}
	if err := s.Check(payload, true); err != nil {
		log.Fatal(err) // a payload this Signer cannot sign: before any login
	}
	cred, _, err := s.Credential(ctx)
	if err != nil {
		log.Fatal(err)
	}
	sig, err := s.Sign(ctx, cred, payload, true)
	if err != nil {
		log.Fatal(err)
	}
	os.Stdout.Write(sig.PEM) // the gpgsig header git stores
}
