package oauth_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"time"

	"github.com/gitsign-dev/gitsign/oauth"
)

func Example() {
	// In CI the token usually comes from the environment. (The signature
	// is not checked here; Fulcio checks it.)
	enc := base64.RawURLEncoding.EncodeToString
	claims := fmt.Sprintf(`{"iss":"https://token.actions.githubusercontent.com","sub":"repo:octo/demo:ref:refs/heads/main","exp":%d}`,
		time.Now().Add(time.Hour).Unix())
	jwt := enc([]byte(`{"alg":"RS256"}`)) + "." + enc([]byte(claims)) + "." + enc([]byte("signature"))

	tok, err := oauth.Get(context.Background(), oauth.Options{
		Issuer:   "https://oauth2.sigstore.dev/auth",
		ClientID: "sigstore",
		Terminal: os.Stderr, // never os.Stdout: git reads the signature there
		LookupEnv: func(k string) (string, bool) {
			if k == oauth.EnvIDToken {
				return jwt, true
			}
			return "", false
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tok.Source, tok.Issuer, tok.Subject)
	// Output: envvar https://token.actions.githubusercontent.com repo:octo/demo:ref:refs/heads/main
}
