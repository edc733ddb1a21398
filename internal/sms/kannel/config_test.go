package kannel

import (
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		name, raw string
		want      Config
		err       string // substring of the error; "" for success
	}{
		{
			name: "full",
			raw:  "kannel://perk:s%40cret@kannel.example:13013?dlr=31&from=PERK&secret=abc-123&public=http://perk-host:8080/",
			want: Config{SendURL: "http://kannel.example:13013/cgi-bin/sendsms", User: "perk", Pass: "s@cret",
				From: "PERK", DLRMask: 31, Secret: "abc-123", PublicURL: "http://perk-host:8080"},
		},
		{
			name: "defaults: port, path, mask, no from",
			raw:  "kannel://u:p@10.0.0.5?secret=s&public=https://perk.example/base",
			want: Config{SendURL: "http://10.0.0.5:13013/cgi-bin/sendsms", User: "u", Pass: "p",
				DLRMask: 31, Secret: "s", PublicURL: "https://perk.example/base"},
		},
		{
			name: "custom path and mask",
			raw:  "kannel://u:p@h:14000/sms/send?dlr=3&secret=s&public=http://p",
			want: Config{SendURL: "http://h:14000/sms/send", User: "u", Pass: "p",
				DLRMask: 3, Secret: "s", PublicURL: "http://p"},
		},
		{
			name: "IPv6 host",
			raw:  "kannel://u:p@[::1]:13013?secret=s&public=http://p",
			want: Config{SendURL: "http://[::1]:13013/cgi-bin/sendsms", User: "u", Pass: "p",
				DLRMask: 31, Secret: "s", PublicURL: "http://p"},
		},
		{name: "wrong scheme", raw: "http://u:p@h?secret=s&public=http://p", err: "scheme"},
		{name: "no host", raw: "kannel://u:p@?secret=s&public=http://p", err: "no host"},
		{name: "no user", raw: "kannel://h?secret=s&public=http://p", err: "no sendsms user"},
		{name: "no secret", raw: "kannel://u:p@h?public=http://p", err: "no secret"},
		{name: "secret needing escapes", raw: "kannel://u:p@h?secret=a%25b&public=http://p", err: "secret="},
		{name: "no public", raw: "kannel://u:p@h?secret=s", err: "no public"},
		{name: "public not http", raw: "kannel://u:p@h?secret=s&public=ftp://p", err: "public="},
		{name: "mask zero", raw: "kannel://u:p@h?dlr=0&secret=s&public=http://p", err: "dlr="},
		{name: "mask too big", raw: "kannel://u:p@h?dlr=32&secret=s&public=http://p", err: "dlr="},
		{name: "mask not a number", raw: "kannel://u:p@h?dlr=all&secret=s&public=http://p", err: "dlr="},
		{name: "unparsable", raw: "kannel://u:p@h:port?secret=s", err: "kannel url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseURL(tt.raw)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseURL(%q) error = %v, want one containing %q", tt.raw, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseURL(%q): %v", tt.raw, err)
			}
			if got != tt.want {
				t.Errorf("ParseURL(%q)\n got %+v\nwant %+v", tt.raw, got, tt.want)
			}
		})
	}
}
