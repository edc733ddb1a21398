package loadgen

import (
	"testing"

	"github.com/perk-platform/perk/internal/phone"
)

// TestMobiles_AreAcceptedByThePhonePackage guards the block choice: a
// libphonenumber update that invalidates a block would silently turn
// benchmark rows into rejects.
func TestMobiles_AreAcceptedByThePhonePackage(t *testing.T) {
	for _, use := range []phoneUse{phonesForFiles, phonesForAPI} {
		for i := uint64(0); i < 20_000; i++ {
			n := string(appendMobile(nil, use, i*4999))
			if _, err := phone.Parse(n, "GB"); err != nil {
				t.Fatalf("use %d index %d: %s: %v", use, i, n, err)
			}
		}
	}
}
