package suggest

import "testing"

func TestDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"", "abc", 3},
		{"abc", "", 3},
		{"verify", "verify", 0},
		{"verfy", "verify", 1},   // one deleted
		{"veriffy", "verify", 1}, // one inserted
		{"verity", "verify", 1},  // one substituted
		{"kitten", "sitting", 3}, // the classic
		{"allowedsignerfile", "allowedsignersfile", 1},
		{"fulciourl", "fulcio", 3},
	} {
		if got := Distance(c.a, c.b); got != c.want {
			t.Errorf("Distance(%q, %q) = %d; want %d", c.a, c.b, got, c.want)
		}
		if got := Distance(c.b, c.a); got != c.want {
			t.Errorf("Distance(%q, %q) = %d; want %d (symmetric)", c.b, c.a, got, c.want)
		}
	}
}
