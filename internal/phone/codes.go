package phone

import (
	"strconv"

	"github.com/nyaruka/phonenumbers"
)

func knownCallingCode(s string) bool {
	cc, err := strconv.Atoi(s)
	if err != nil {
		return false
	}
	return phonenumbers.GetRegionCodeForCountryCode(cc) != "ZZ"
}
