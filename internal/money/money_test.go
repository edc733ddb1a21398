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

func TestMulDiv(t *testing.T) {
	const max = int64(^uint64(0) >> 1)
	for _, c := range []struct{ a, b, c, want int64 }{
		{1000, 1, 3, 333},
		{1000, 2, 3, 666},
		{0, 5, 3, 0},
		{5, 5, 0, 0},
		{-5, 5, 1, 0},
		{max, max, max, max}, // 128-bit product, exact quotient
		{max, 3, 2, max},     // does not fit: saturates
	} {
		if got := MulDiv(c.a, c.b, c.c); got != c.want {
			t.Errorf("MulDiv(%d, %d, %d) = %d, want %d", c.a, c.b, c.c, got, c.want)
		}
	}
}
