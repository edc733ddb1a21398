package smpp

import (
	"testing"
	"time"
)

func TestParseURLReadsTheConnectionSettings(t *testing.T) {
	got, err := ParseURL("smpp://perk:s%40cret@smsc.example.net:2776?system_type=VMA&source=PERK&tps=100&window=50&bind=trx&receipt_ids=dec2hex")
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Addr: "smsc.example.net:2776", SystemID: "perk", Password: "s@cret", SystemType: "VMA", Source: "PERK", TPS: 100, Window: 50,
		ReceiptIDs: IDDec2Hex}
	if got != want {
		t.Errorf("ParseURL =\n %+v\nwant\n %+v", got, want)
	}
}

func TestParseURLDefaultsThePortTo2775(t *testing.T) {
	got, err := ParseURL("smpp://perk:pw@[::1]")
	if err != nil || got.Addr != "[::1]:2775" {
		t.Errorf("ParseURL = %+v, %v; want Addr [::1]:2775", got, err)
	}
}

func TestParseURLRefusesWhatCannotWork(t *testing.T) {
	for _, raw := range []string{
		"http://perk:pw@host",                           // wrong scheme
		"smpp://host:2775",                              // no system_id
		"smpp://perk:pw@",                               // no host
		"smpp://perk:pw@host?bind=tx",                   // transmitter cannot get receipts
		"smpp://perk:pw@host?tps=fast",                  // not a number
		"smpp://perk:pw@host?window=-1",                 // negative
		"smpp://averyveryverylongid:pw@host",            // system_id over 15
		"smpp://perk:toolongpassword@host",              // password over 8
		"smpp://perk:pw@host?system_type=abcdefghijklm", // over 12
		"smpp://perk:pw@host?receipt_ids=auto",          // no guessing mode
	} {
		if c, err := ParseURL(raw); err == nil {
			t.Errorf("ParseURL(%q) = %+v, want an error", raw, c)
		}
	}
}

func TestParseURLMatchesReceiptIDsExactlyByDefault(t *testing.T) {
	for _, raw := range []string{"smpp://perk:pw@host", "smpp://perk:pw@host?receipt_ids=", "smpp://perk:pw@host?receipt_ids=exact"} {
		c, err := ParseURL(raw)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.withDefaults().ReceiptIDs; got != IDExact {
			t.Errorf("ParseURL(%q) matches receipt ids %q, want exact", raw, got)
		}
	}
}

func TestConfigDefaultsFillOnlyZeroFields(t *testing.T) {
	c := Config{Window: 3}.withDefaults()
	if c.Window != 3 || c.EnquireLink != 30*time.Second || c.BindTimeout != 10*time.Second || c.ResponseTimeout != 10*time.Second || c.Log == nil ||
		c.ReceiptIDs != IDExact {
		t.Errorf("withDefaults = %+v", c)
	}
	if c := (Config{ReceiptIDs: IDHex}).withDefaults(); c.ReceiptIDs != IDHex {
		t.Errorf("withDefaults replaced ReceiptIDs hex with %q", c.ReceiptIDs)
	}
}

func TestParseURLReadsBindsAndTLS(t *testing.T) {
	for _, tc := range []struct {
		raw       string
		addr      string
		binds     int
		tls       bool
		serverFor string
	}{
		{"smpp://perk:pw@smsc.example.net?binds=4&window=25", "smsc.example.net:2775", 4, false, ""},
		{"smpps://perk:pw@smsc.example.net", "smsc.example.net:3550", 0, true, "smsc.example.net"},
		{"smpps://perk:pw@smsc.example.net:2776?binds=2", "smsc.example.net:2776", 2, true, "smsc.example.net"},
	} {
		c, err := ParseURL(tc.raw)
		if err != nil {
			t.Fatalf("ParseURL(%q): %v", tc.raw, err)
		}
		if c.Addr != tc.addr || c.Binds != tc.binds || (c.TLS != nil) != tc.tls || (c.TLS != nil && c.TLS.ServerName != tc.serverFor) {
			t.Errorf("ParseURL(%q) = addr %s, binds %d, TLS %+v", tc.raw, c.Addr, c.Binds, c.TLS)
		}
	}
	if _, err := ParseURL("smpp://perk:pw@host?binds=two"); err == nil {
		t.Error("binds=two accepted")
	}
}
