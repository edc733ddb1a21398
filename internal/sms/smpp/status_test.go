package smpp

import (
	"errors"
	"strings"
	"testing"

	"github.com/perk-platform/perk/internal/sms"
)

func TestStatusClassDecidesWhetherTheSenderRetries(t *testing.T) {
	tests := []struct {
		status Status
		name   string
		class  error
	}{
		{0x58, "ESME_RTHROTTLED", sms.ErrTemporary},
		{0x14, "ESME_RMSGQFUL", sms.ErrTemporary},
		{0x08, "ESME_RSYSERR", sms.ErrTemporary},
		{0x45, "ESME_RSUBMITFAIL", sms.ErrTemporary},
		{0x0B, "ESME_RINVDSTADR", sms.ErrPermanent},
		{0x0A, "ESME_RINVSRCADR", sms.ErrPermanent},
		{0x01, "ESME_RINVMSGLEN", sms.ErrPermanent},
		{0x51, "ESME_RINVDSTNPI", sms.ErrPermanent},
		{0x65, "ESME_RX_P_APPN", sms.ErrPermanent},
		{0x400, "0x00000400", sms.ErrTemporary}, // vendor-specific: retry rather than lose
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := error(&StatusError{Command: SubmitSMResp, Status: tt.status})
			if !errors.Is(err, tt.class) {
				t.Errorf("%v is not %v", err, tt.class)
			}
			if !strings.Contains(err.Error(), tt.name) || !strings.Contains(err.Error(), "submit_sm_resp") {
				t.Errorf("error %q should name %s and the command", err, tt.name)
			}
		})
	}
}
