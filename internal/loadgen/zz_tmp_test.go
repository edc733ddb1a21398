package loadgen

import (
	"testing"

	"github.com/perk-platform/perk/internal/phone"
)

func TestTmpLibphonenumber(t *testing.T) {
	var buf []byte
	bad := 0
	for _, use := range []phoneUse{phonesForFiles, phonesForAPI} {
		for i := uint64(0); i < 1_000_000; i++ {
			buf = appendMobile(buf[:0], use, i*97+phoneStart(int64(i%7)))
			s := string(buf)
			if use == phonesForAPI {
				s = "+44" + s[1:]
			}
			if _, err := phone.Parse(s, "GB"); err != nil {
				bad++
				if bad < 10 {
					t.Errorf("%s: %v", s, err)
				}
			}
		}
	}
	t.Logf("bad=%d", bad)
	for _, s := range []string{"07400 12", "020 7946 0123"} {
		_, err := phone.Parse(s, "GB")
		t.Logf("%s -> %v", s, err)
	}
}
