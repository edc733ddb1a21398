package journey

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// A journey file goes through apply and comes back as YAML that reads to
// the same definitions; applying it again changes nothing.
func TestFile_RoundTripsThroughApplyAndGet(t *testing.T) {
	src, err := os.ReadFile("testdata/abandonment.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defs, err := DecodeFile(src)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		for _, d := range defs {
			a, err := f.journeys.Apply(ctx, d)
			if err != nil || a.Outcome != "created" {
				t.Fatalf("apply %s: %+v %v", d.Name, a, err)
			}
		}
		list, err := f.journeys.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var stored []Definition
		for _, j := range list {
			stored = append(stored, j.Definition)
		}
		var out bytes.Buffer
		if err := EncodeYAML(&out, stored...); err != nil {
			t.Fatal(err)
		}
		back, err := DecodeFile(out.Bytes())
		if err != nil {
			t.Fatalf("the printed YAML does not read back: %v\n%s", err, out.String())
		}
		if a, b := mustJSON(t, back), mustJSON(t, defs); a != b {
			t.Fatalf("round trip changed the journeys:\n%s\n%s\n%s", out.String(), a, b)
		}
		if strings.Contains(out.String(), `""`) || strings.Contains(out.String(), "uses: 0") {
			t.Fatalf("the printed YAML shows empty fields:\n%s", out.String())
		}
		for _, d := range back {
			if a, err := f.journeys.Apply(ctx, d); err != nil || a.Outcome != "unchanged" {
				t.Fatalf("re-applying %s: %+v %v", d.Name, a, err)
			}
		}
	})
}

func TestDecodeFile_NamesTheDocumentAndField(t *testing.T) {
	for _, c := range []struct {
		name, src, want, field string
	}{
		{"unknown field", "name: a\ntrigger: {event: x}\nsteps: [{id: s, wiat: 2h}]\n", "document 1: yaml: unmarshal errors:\n  line 3: field wiat not found", ""},
		{"bad duration", "name: a\ntrigger: {event: x}\nsteps: [{id: s, wait: soon}]\n", `"soon" is not a duration`, ""},
		{"second document", "name: a\ntrigger: {event: x}\nsteps: [{id: s, wait: 1h}]\n---\nname: b\ntrigger: {event: x}\nsteps: [{id: s, wait_until: '25:00'}]\n",
			"document 2 (b): steps[0].wait_until", "steps[0].wait_until"},
		{"same name twice", "name: a\ntrigger: {event: x}\nsteps: [{id: s, wait: 1h}]\n---\nname: a\ntrigger: {event: x}\nsteps: [{id: s, wait: 1h}]\n",
			`journey "a" is already document 1`, "name"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := DecodeFile([]byte(c.src))
			if err == nil || !strings.Contains(err.Error(), c.want) || fieldOf(err) != c.field {
				t.Fatalf("DecodeFile = %v (field %q), want %q on %q", err, fieldOf(err), c.want, c.field)
			}
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
