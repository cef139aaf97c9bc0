package cli

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gitsign-dev/gitsign/oauth"
)

func TestLoginNotices(t *testing.T) {
	for _, tc := range []struct {
		notice   oauth.Notice
		want     []string
		wantHint bool
	}{
		{oauth.BrowserOpening{URL: "https://issuer.example/auth?x=1"}, []string{"Your browser will now be opened to:\nhttps://issuer.example/auth?x=1\n"}, false},
		{oauth.BrowserFailed{Err: errors.New("no xdg-open")}, []string{"gitsign: could not open a browser: no xdg-open\n", "Open the URL above"}, false},
		{oauth.DeviceCode{VerificationURI: "https://issuer.example/device", VerificationURIComplete: "https://issuer.example/device?c=AB", UserCode: "AB-CD", ExpiresIn: 10 * time.Minute},
			[]string{"open this page in a browser on any device:\n\n    https://issuer.example/device\n", "enter the code  AB-CD\n", "(or open https://issuer.example/device?c=AB, which fills in the code)", "expires in 10m0s; press Ctrl-C to cancel"}, false},
		{oauth.DeviceChosen{Why: "there is no display"}, []string{"gitsign: no browser can be opened here (there is no display): signing in with a code instead\n"}, true},
		{oauth.BrowserInstead{}, []string{"gitsign: the issuer does not offer the device flow: signing in with a browser instead\n"}, false},
		{oauth.Cancelled{Cause: context.Canceled}, []string{"gitsign: sign-in cancelled (context canceled)\n"}, false},
	} {
		var term strings.Builder
		var hints []string
		loginNotices(&term, func(h string) { hints = append(hints, h) })(tc.notice)
		for _, w := range tc.want {
			if !strings.Contains(term.String(), w) {
				t.Errorf("%T: terminal %q lacks %q", tc.notice, term.String(), w)
			}
		}
		if (len(hints) > 0) != tc.wantHint {
			t.Errorf("%T: hints %q", tc.notice, hints)
		}
	}
}

// Text from the issuer never reaches the terminal raw.
func TestLoginNoticesEscape(t *testing.T) {
	var term strings.Builder
	loginNotices(&term, nil)(oauth.DeviceCode{VerificationURI: "https://x.example/\x1b]0;owned\x07", UserCode: "A\x9bB"})
	if strings.ContainsAny(term.String(), "\x1b\x07") || strings.Contains(term.String(), "\x9b") {
		t.Errorf("control characters reached the terminal: %q", term.String())
	}
}
