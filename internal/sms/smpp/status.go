package smpp

import (
	"fmt"

	"github.com/perk-platform/perk/internal/sms"
)

// Status is a command_status value (SMPP 3.4 section 5.1.3).
type Status uint32

// The statuses this client sends or treats specially; String names the
// rest of the table too.
const (
	StatusOK          Status = 0x00 // ESME_ROK
	StatusInvMsgLen   Status = 0x01 // ESME_RINVMSGLEN
	StatusInvCmdID    Status = 0x03 // ESME_RINVCMDID
	StatusSysErr      Status = 0x08 // ESME_RSYSERR
	StatusInvSrcAdr   Status = 0x0A // ESME_RINVSRCADR
	StatusInvDstAdr   Status = 0x0B // ESME_RINVDSTADR
	StatusMsgQFul     Status = 0x14 // ESME_RMSGQFUL
	StatusThrottled   Status = 0x58 // ESME_RTHROTTLED
	StatusXTAppn      Status = 0x64 // ESME_RX_T_APPN: temporary application error, the SMSC retries
	StatusUnknownErr  Status = 0xFF // ESME_RUNKNOWNERR
	StatusInvCmdLen   Status = 0x02 // ESME_RINVCMDLEN
	StatusInvBndSts   Status = 0x04 // ESME_RINVBNDSTS
	StatusInvPassword Status = 0x0E // ESME_RINVPASWD
)

var statusNames = map[Status]string{
	0x00: "ESME_ROK", 0x01: "ESME_RINVMSGLEN", 0x02: "ESME_RINVCMDLEN", 0x03: "ESME_RINVCMDID",
	0x04: "ESME_RINVBNDSTS", 0x05: "ESME_RALYBND", 0x06: "ESME_RINVPRTFLG", 0x07: "ESME_RINVREGDLVFLG",
	0x08: "ESME_RSYSERR", 0x0A: "ESME_RINVSRCADR", 0x0B: "ESME_RINVDSTADR", 0x0C: "ESME_RINVMSGID",
	0x0D: "ESME_RBINDFAIL", 0x0E: "ESME_RINVPASWD", 0x0F: "ESME_RINVSYSID", 0x11: "ESME_RCANCELFAIL",
	0x13: "ESME_RREPLACEFAIL", 0x14: "ESME_RMSGQFUL", 0x15: "ESME_RINVSERTYP", 0x33: "ESME_RINVNUMDESTS",
	0x34: "ESME_RINVDLNAME", 0x40: "ESME_RINVDESTFLAG", 0x42: "ESME_RINVSUBREP", 0x43: "ESME_RINVESMCLASS",
	0x44: "ESME_RCNTSUBDL", 0x45: "ESME_RSUBMITFAIL", 0x48: "ESME_RINVSRCTON", 0x49: "ESME_RINVSRCNPI",
	0x50: "ESME_RINVDSTTON", 0x51: "ESME_RINVDSTNPI", 0x53: "ESME_RINVSYSTYP", 0x54: "ESME_RINVREPFLAG",
	0x55: "ESME_RINVNUMMSGS", 0x58: "ESME_RTHROTTLED", 0x61: "ESME_RINVSCHED", 0x62: "ESME_RINVEXPIRY",
	0x63: "ESME_RINVDFTMSGID", 0x64: "ESME_RX_T_APPN", 0x65: "ESME_RX_P_APPN", 0x66: "ESME_RX_R_APPN",
	0x67: "ESME_RQUERYFAIL", 0xC0: "ESME_RINVOPTPARSTREAM", 0xC1: "ESME_ROPTPARNOTALLWD",
	0xC2: "ESME_RINVPARLEN", 0xC3: "ESME_RMISSINGOPTPARAM", 0xC4: "ESME_RINVOPTPARAMVAL",
	0xFE: "ESME_RDELIVERYFAILURE", 0xFF: "ESME_RUNKNOWNERR",
}

// String returns the status's SMPP name, or its hex value if unassigned.
func (s Status) String() string {
	if n, ok := statusNames[s]; ok {
		return n
	}
	return fmt.Sprintf("0x%08X", uint32(s))
}

// permanent lists the statuses that say this message can never be
// accepted: resending it unchanged would be refused again (and may be
// billed). Everything else, including unknown and vendor-specific codes, is
// temporary: a wrongly retried message costs a few attempts, a wrongly
// abandoned one is lost.
var permanent = map[Status]bool{
	0x01: true, // RINVMSGLEN
	0x0A: true, // RINVSRCADR
	0x0B: true, // RINVDSTADR
	0x43: true, // RINVESMCLASS
	0x48: true, // RINVSRCTON
	0x49: true, // RINVSRCNPI
	0x50: true, // RINVDSTTON
	0x51: true, // RINVDSTNPI
	0x65: true, // RX_P_APPN: the SMSC's application rejected it for good
	0x66: true, // RX_R_APPN: rejected (e.g. barred destination)
}

// Class returns sms.ErrPermanent or sms.ErrTemporary for a failure status.
func (s Status) Class() error {
	if permanent[s] {
		return sms.ErrPermanent
	}
	return sms.ErrTemporary
}

// StatusError is a response with a non-zero command_status. It unwraps to
// sms.ErrTemporary or sms.ErrPermanent (see Status.Class).
type StatusError struct {
	Command uint32 // the response's command id
	Status  Status
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("smpp: %s: %s (0x%02X)", CommandName(e.Command), e.Status, uint32(e.Status))
}

// Unwrap lets errors.Is(err, sms.ErrTemporary) classify the failure.
func (e *StatusError) Unwrap() error { return e.Status.Class() }
