package funnel

import (
	"strings"
	"testing"
	"time"
)

func TestDecodeFile(t *testing.T) {
	good := `name: coffee
window: 3d
breakdown: campaign
steps:
  - name: text delivered
    types: [sms_delivered]
  - types: [order_placed, basket_committed]
    where: {store: S001}
---
{"name": "web", "window": "90m", "steps": [{"types": ["page_viewed"]}, {"types": ["cart_updated"]}]}
`
	defs, err := DecodeFile([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if len(defs) != 2 || time.Duration(defs[0].Window) != 72*time.Hour || defs[0].Steps[1].Name != "order_placed or basket_committed" ||
		defs[0].Steps[1].Where["store"] != "S001" || time.Duration(defs[1].Window) != 90*time.Minute {
		t.Fatalf("decoded %+v", defs)
	}
	tests := []struct{ name, src, want string }{
		{"unknown field", "name: x\nwindow: 1h\nstep: []\n", "document 1"},
		{"bad window", "name: x\nwindow: soon\nsteps: [{types: [a]}, {types: [b]}]\n", "window"},
		{"second document invalid", good + "---\nname: y\nwindow: 1h\nsteps: [{types: [a]}]\n", "document 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeFile([]byte(tt.src))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}
