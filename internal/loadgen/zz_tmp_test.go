package loadgen

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/perk-platform/perk/internal/phone"
)

func TestTmpPattern(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, x := range "45789" {
		for y := 0; y < 10; y++ {
			bad := 0
			var ex string
			for zw := 0; zw < 100; zw++ {
				for k := 0; k < 6; k++ {
					var s string
					switch k {
					case 0:
						s = fmt.Sprintf("07%c%d%02d00000", x, y, zw)
					case 1:
						s = fmt.Sprintf("07%c%d%02d99999", x, y, zw)
					default:
						s = fmt.Sprintf("07%c%d%02d%05d", x, y, zw, r.IntN(100000))
					}
					if _, err := phone.Parse(s, "GB"); err != nil {
						bad++
						ex = s + " " + err.Error()
					}
				}
			}
			fmt.Printf("07%c%d bad=%d %s\n", x, y, bad, ex)
		}
	}
}
