package ledger_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/ledger"
)

func TestPolicy_ValidateNamesWhatIsWrong(t *testing.T) {
	tests := []struct {
		name string
		p    ledger.Policy
		want []string // substrings of the error; none = valid
	}{
		{"zero value is the defaults", ledger.Policy{}, nil},
		{"a typical programme", ledger.Policy{PendingFor: 14 * 24 * time.Hour, ExpireAfter: 365 * 24 * time.Hour,
			RedeemPoints: 100, RedeemValue: 50, Clawback: ledger.ClawbackDebt}, nil},
		{"negative pending", ledger.Policy{PendingFor: -time.Hour}, []string{"pending period -1h0m0s is negative"}},
		{"negative expiry", ledger.Policy{ExpireAfter: -time.Hour}, []string{"expiry -1h0m0s is negative"}},
		{"negative rate", ledger.Policy{RedeemPoints: -1, RedeemValue: 1}, []string{"-1 points = 1 minor units"}},
		{"unknown clawback", ledger.Policy{Clawback: "never"}, []string{`clawback "never"`, "pending_only, within_balance or debt"}},
		{"all reported at once", ledger.Policy{PendingFor: -1, Clawback: "x"}, []string{"pending period", "clawback"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate = nil, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate = %q, want it to mention %q", err, w)
				}
			}
		})
	}
}

func TestPolicy_ValueRoundsDownAndPointsForRoundsUp(t *testing.T) {
	half := ledger.Policy{RedeemPoints: 100, RedeemValue: 50} // 100 points pay 50p
	tests := []struct {
		name          string
		p             ledger.Policy
		points, value int64 // Value(points) == value
		pay, need     int64 // PointsFor(pay) == need
	}{
		{"defaults are one point per minor unit", ledger.Policy{}, 250, 250, 250, 250},
		{"exact", half, 200, 100, 100, 200},
		{"an odd point is worth nothing", half, 199, 99, 99, 198},
		{"a penny needs two points", half, 1, 0, 1, 2},
		{"nothing", half, 0, 0, 0, 0},
		{"negative is nothing", half, -5, 0, -5, 0},
		{"three points per two pence rounds up", ledger.Policy{RedeemPoints: 3, RedeemValue: 2}, 10, 6, 7, 11},
		{"huge amounts saturate", ledger.Policy{RedeemPoints: 1, RedeemValue: 1000}, math.MaxInt64, math.MaxInt64, math.MaxInt64, 9223372036854776},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.Value(tt.points); got != tt.value {
				t.Errorf("Value(%d) = %d, want %d", tt.points, got, tt.value)
			}
			if got := tt.p.PointsFor(tt.pay); got != tt.need {
				t.Errorf("PointsFor(%d) = %d, want %d", tt.pay, got, tt.need)
			}
		})
	}
}
