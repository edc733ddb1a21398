package policy

import (
	"strings"
	"testing"
	"time"
)

func TestParseWindow_Accepts24HourTimesWithOptionalMinutes(t *testing.T) {
	tests := []struct {
		in   string
		want Window
	}{
		{"08:00-21:00", Window{480, 1260}},
		{"8-21", Window{480, 1260}},
		{" 08:30 - 21:15 ", Window{510, 1275}},
		{"22:00-06:00", Window{1320, 360}},
		{"00:00-24:00", Window{0, 0}},
		{"9-9", Window{540, 540}},
		{"0:05-23:59", Window{5, 1439}},
	}
	for _, tt := range tests {
		got, err := ParseWindow(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseWindow(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseWindow_RejectsWithAClearMessage(t *testing.T) {
	tests := []struct{ in, wantErr string }{
		{"", "want START-END such as 08:00-21:00"},
		{"08:00", "want START-END such as 08:00-21:00"},
		{"08:00-21:00-22:00", "want START-END"},
		{"8am-9pm", `start: "8am" is not a time such as 08:00`},
		{"-21:00", `start: "" is not a time`},
		{"25:00-21:00", `start: "25:00": hour 25 out of range 0-23`},
		{"24:00-08:00", `start: "24:00": hour 24 out of range 0-23`},
		{"08:60-21:00", `start: "08:60": minutes 60 out of range 00-59`},
		{"08:0-21:00", `start: "08:0": minutes must be two digits`},
		{"08:00-24:30", `end: "24:30": the only end past 23:59 is 24:00, midnight`},
		{"08:00-+9", `end: "+9" is not a time`},
		{"008:00-21:00", `start: "008:00" is not a time`},
	}
	for _, tt := range tests {
		_, err := ParseWindow(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "policy: window ") {
			t.Errorf("ParseWindow(%q) error = %v; want it to contain %q", tt.in, err, tt.wantErr)
		}
	}
}

func TestWindowString_RoundTripsThroughParseWindow(t *testing.T) {
	for _, w := range []Window{{480, 1260}, {1320, 360}, {0, 0}, {5, 1439}} {
		got, err := ParseWindow(w.String())
		if err != nil || got != w {
			t.Errorf("ParseWindow(%q) = %+v, %v; want %+v", w.String(), got, err, w)
		}
	}
}

func TestParseCap_AcceptsDaysWeeksAndDurations(t *testing.T) {
	tests := []struct {
		in   string
		want Cap
	}{
		{"3/7d", Cap{3, 7 * 24 * time.Hour}},
		{"5/24h", Cap{5, 24 * time.Hour}},
		{"1/1w", Cap{1, 7 * 24 * time.Hour}},
		{" 2 / 36h ", Cap{2, 36 * time.Hour}},
		{"10/90m", Cap{10, 90 * time.Minute}},
		{"0", Cap{}},
		{"0/7d", Cap{0, 7 * 24 * time.Hour}},
		{"1/366d", Cap{1, 366 * 24 * time.Hour}},
	}
	for _, tt := range tests {
		got, err := ParseCap(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseCap(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseCap_RejectsWithAClearMessage(t *testing.T) {
	tests := []struct{ in, wantErr string }{
		{"", "want COUNT/PERIOD such as 3/7d, or 0 for no cap"},
		{"three/7d", "want COUNT/PERIOD"},
		{"-1/7d", "want COUNT/PERIOD"},
		{"3", "a count needs a period, such as 3/7d"},
		{"3/", `period: "" is not a period such as 7d, 1w or 24h`},
		{"3/7", `period: "7" is not a period`},
		{"3/7 days", `period: "7 days" is not a period`},
		{"3/xd", `period: "xd" is not a period`},
		{"3/0d", "period 0s must be positive"},
		{"3/-24h", "period -24h0m0s must be positive"},
		{"3/53w", "is longer than 366 days"},
	}
	for _, tt := range tests {
		_, err := ParseCap(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "policy: cap ") {
			t.Errorf("ParseCap(%q) error = %v; want it to contain %q", tt.in, err, tt.wantErr)
		}
	}
}

func TestCapString_RoundTripsThroughParseCap(t *testing.T) {
	for _, c := range []Cap{{3, 7 * 24 * time.Hour}, {5, 36 * time.Hour}, {10, 90 * time.Minute}, {}} {
		got, err := ParseCap(c.String())
		if err != nil || got != c {
			t.Errorf("ParseCap(%q) = %+v, %v; want %+v", c.String(), got, err, c)
		}
	}
}
