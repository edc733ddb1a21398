package money

import "testing"

func TestFormat(t *testing.T) {
	for _, c := range []struct {
		in   int64
		want string
	}{{0, "0.00"}, {5, "0.05"}, {1205, "12.05"}, {-50, "-0.50"}, {100000, "1000.00"}} {
		if got := Format(c.in); got != c.want {
			t.Errorf("Format(%d) = %q, want %q", c.in, got, c.want)
		}
	}
}
