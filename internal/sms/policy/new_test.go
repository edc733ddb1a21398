package policy

import (
	"strings"
	"sync"
	"testing"
	"time"
)

func TestDefaultConfig_Is8To21ThreePerSevenDaysUTC(t *testing.T) {
	got := DefaultConfig()
	if got.Window.String() != "08:00-21:00" || got.Cap.String() != "3/7d" || got.DefaultZone != "UTC" {
		t.Fatalf("DefaultConfig() = %v %v %q", got.Window, got.Cap, got.DefaultZone)
	}
}

func TestNew_FillsInUTCForAnEmptyDefaultZone(t *testing.T) {
	p := mustNew(t, Config{})
	if z := p.Config().DefaultZone; z != "UTC" {
		t.Fatalf("DefaultZone = %q, want UTC", z)
	}
}

func TestNew_RejectsABadConfig(t *testing.T) {
	with := func(f func(*Config)) Config { c := DefaultConfig(); f(&c); return c }
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"unknown default zone", with(func(c *Config) { c.DefaultZone = "Mars/Base" }), `default zone "Mars/Base"`},
		{"host zone as default", with(func(c *Config) { c.DefaultZone = "Local" }), `"Local" is the host's zone`},
		{"negative window start", with(func(c *Config) { c.Window.Start = -1 }), "window start -1 and end 1260 must be minutes in [0, 1440)"},
		{"window end of 1440", with(func(c *Config) { c.Window.End = 1440 }), "must be minutes in [0, 1440)"},
		{"negative cap", with(func(c *Config) { c.Cap.N = -1 }), "cap: count -1 is negative"},
		{"cap without a period", with(func(c *Config) { c.Cap.Per = 0 }), "cap: period 0s must be positive"},
		{"cap period over a year", with(func(c *Config) { c.Cap.Per = 400 * 24 * time.Hour }), "longer than 366 days"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("New error = %v; want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestDecide_IsSafeForConcurrentUseAcrossZones(t *testing.T) {
	p := mustNew(t, DefaultConfig())
	now := at("2026-01-15 12:00")
	zones := []string{"Europe/London", "America/New_York", "Asia/Tokyo", "Mars/Base", ""}
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			z := zones[i%len(zones)]
			first := p.Decide(now, Marketing, Member{Marketable: true, TimeZone: z})
			again := p.Decide(now, Marketing, Member{Marketable: true, TimeZone: z})
			if first != again {
				t.Errorf("zone %q: %+v then %+v", z, first, again)
			}
		})
	}
	wg.Wait()
}
