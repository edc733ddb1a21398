package catalogue

import (
	"strconv"
	"testing"
)

func TestParseQuantity_ExactThousandths(t *testing.T) {
	tests := []struct {
		in   string
		want Quantity
		ok   bool
	}{
		{"2", 2000, true},
		{"0.750", 750, true},
		{"0.75", 750, true},
		{".5", 500, true},
		{"1.2500", 1250, true}, // trailing zeros are not precision
		{"0", 0, true},
		{"100000", 100_000_000, true},
		{"100000.001", 0, false},
		{"0.0005", 0, false},
		{"-1", 0, false},
		{"+1", 0, false},
		{"1e3", 0, false},
		{"1,5", 0, false},
		{" 1", 0, false},
		{"1.", 0, false},
		{".", 0, false},
		{"", 0, false},
		{"0x10", 0, false},
		{"9999999", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseQuantity(tt.in)
			if (err == nil) != tt.ok || got != tt.want {
				t.Fatalf("ParseQuantity(%q) = %d, %v; want %d, ok %v", tt.in, got, err, tt.want, tt.ok)
			}
		})
	}
}

func TestQuantityValue_RoundsHalfUpOnce(t *testing.T) {
	tests := []struct {
		name  string
		q     Quantity
		price int64
		want  int64
	}{
		{"0.750 kg at 18.99", 750, 1899, 1424},    // 1424.25
		{"0.500 kg at 18.99", 500, 1899, 950},     // 949.5 rounds up
		{"0.001 kg at 4.99", 1, 499, 0},           // 0.499
		{"0.001 kg at 5.00", 1, 500, 1},           // 0.5 rounds up
		{"whole units are exact", 3000, 325, 975}, // 3 x 3.25
		{"largest", MaxQuantity * QuantityScale, 10_000_000_000, MaxQuantity * 10_000_000_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.q.Value(tt.price); got != tt.want {
				t.Fatalf("%s x %d = %d, want %d", tt.q, tt.price, got, tt.want)
			}
		})
	}
}

// FuzzQuantity checks that whatever parses prints back to the same value,
// stays in range, and agrees with a parse of the printed form as a float
// to within rounding (the float is only the oracle, never the parser).
func FuzzQuantity(f *testing.F) {
	for _, s := range []string{"0.750", "2", ".5", "1.2500", "100000", "-1", "1e3", "00.010", "9.9999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := ParseQuantity(s)
		if err != nil {
			return
		}
		if q < 0 || q > MaxQuantity*QuantityScale {
			t.Fatalf("%q parsed out of range: %d", s, q)
		}
		back, err := ParseQuantity(q.String())
		if err != nil || back != q {
			t.Fatalf("%q -> %s -> %d, %v", s, q, back, err)
		}
		fl, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("%q parsed as a quantity but is no number: %v", s, err)
		}
		if d := fl*QuantityScale - float64(q); d > 0.001 || d < -0.001 {
			t.Fatalf("%q = %s, float says %v", s, q, fl)
		}
		if w, whole := q.Whole(); whole && Quantity(w*QuantityScale) != q {
			t.Fatalf("%s whole %d", q, w)
		}
	})
}
