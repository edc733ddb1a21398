package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// TestAPI_CampaignDaysByNameOrNumber: POST and PUT /v1/campaigns take the
// days the way a campaign file does, by name or number, and answer with
// numbers (0 = Sunday), as they always have. A day that is no day is a 400
// naming conditions.days; a number out of range a 422 naming its position.
func TestAPI_CampaignDaysByNameOrNumber(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		tests := []struct {
			name    string
			days    string // raw JSON
			status  int
			want    string // the days answered, as JSON
			field   string // of the error
			message string // in the error
		}{
			{name: "names, short and long, and numbers", days: `["sat", "Sunday", 1]`, status: 201, want: `[6,0,1]`},
			{name: "numbers", days: `[6, 0]`, status: 201, want: `[6,0]`},
			{name: "any case, and a number written as a string", days: `["FRI", "3"]`, status: 201, want: `[5,3]`},
			{name: "none is every day", days: `[]`, status: 201, want: `null`},
			{name: "a name that is no day", days: `["sat", "funday"]`, status: 400, field: "conditions.days",
				message: `must be a day of the week (sun to sat, sunday to saturday, or 0 = Sunday to 6 = Saturday), not "funday"`},
			{name: "one day, not a list", days: `"sat"`, status: 400, field: "conditions.days", message: "must be an array, not string"},
			{name: "a number out of range", days: `[1, 7]`, status: 422, field: "conditions.days[1]", message: "day 2 must be 0 (Sunday) .. 6 (Saturday)"},
		}
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				body := `{"name": "Days ` + strconv.Itoa(i) + `", "start": "2040-01-01", "end": "2040-02-01",
					"audience": {"kind": "all"}, "benefits": [{"kind": "points_bonus", "points": 10}], "conditions": {"days": ` + tt.days + `}}`
				st, got, _ := e.do("POST", "/v1/campaigns", auth.RoleManager, body)
				if st != tt.status {
					t.Fatalf("POST: %d %s, want %d", st, got, tt.status)
				}
				if tt.status != http.StatusCreated {
					var eb struct {
						Error struct{ Code, Message, Field string }
					}
					jsonUnmarshal(t, got, &eb)
					if eb.Error.Field != tt.field || !strings.Contains(eb.Error.Message, tt.message) {
						t.Fatalf("error %s, want %q on %s", got, tt.message, tt.field)
					}
					return
				}
				c := decode[struct {
					ID   string
					Spec struct {
						Conditions struct{ Days json.RawMessage }
					}
				}](t, got)
				if string(c.Spec.Conditions.Days) != tt.want && !(tt.want == "null" && c.Spec.Conditions.Days == nil) {
					t.Errorf("POST answered days %s, want %s", c.Spec.Conditions.Days, tt.want)
				}
				// PUT takes them the same way.
				st, got, _ = e.do("PUT", "/v1/campaigns/"+c.ID, auth.RoleManager, strings.Replace(body, `"points": 10`, `"points": 20`, 1))
				if st != http.StatusOK {
					t.Fatalf("PUT: %d %s", st, got)
				}
				if !strings.Contains(string(got), `"days":`+tt.want) && tt.want != "null" {
					t.Errorf("PUT answered %s, want days %s", got, tt.want)
				}
			})
		}
	})
}

// TestAPI_AFileAndTheAPIStoreTheSameSpec: a campaign written as a file
// (YAML, day names, bare dates) and the same campaign sent to the API (JSON,
// days by name and number) are stored alike, so applying the file over what
// the API created changes nothing.
func TestAPI_AFileAndTheAPIStoreTheSameSpec(t *testing.T) {
	const file = `name: Weekend coffee
timezone: Europe/London
start: 2040-03-01T09:00
end: 2040-04-01
stores: [S001]
audience:
  kind: filter
  filter: {tags: [coffee], spend_days: 90, spend_at_least: 2000}
benefits:
  - kind: percent_off
    percent: 20
    scope: {categories: [coffee]}
  - kind: points_bonus
    points: 50
conditions:
  days: [Saturday, sun, 1]
  from: "08:00"
  to: 12:00
limits: {per_member: 4, budget: 50000}
control_group: 10
message: "Hi {{.FirstName}}, 20% off coffee at weekends: {{.CardURL}}"
`
	const body = `{"name": "Weekend coffee", "timezone": "Europe/London", "start": "2040-03-01T09:00", "end": "2040-04-01",
		"stores": ["S001"],
		"audience": {"kind": "filter", "filter": {"tags": ["coffee"], "spend_days": 90, "spend_at_least": 2000}},
		"benefits": [{"kind": "percent_off", "percent": 20, "scope": {"categories": ["coffee"]}}, {"kind": "points_bonus", "points": 50}],
		"conditions": {"days": ["sat", 0, "Monday"], "from": "08:00", "to": "12:00"},
		"limits": {"per_member": 4, "budget": 50000}, "control_group": 10,
		"message": "Hi {{.FirstName}}, 20% off coffee at weekends: {{.CardURL}}"}`
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		specs, err := campaign.DecodeFile([]byte(file), time.UTC)
		if err != nil || len(specs) != 1 {
			t.Fatalf("file: %d campaigns, %v", len(specs), err)
		}
		st, got, _ := e.do("POST", "/v1/campaigns", auth.RoleManager, body)
		if st != http.StatusCreated {
			t.Fatalf("POST: %d %s", st, got)
		}
		var created struct {
			ID   string
			Spec json.RawMessage
		}
		jsonUnmarshal(t, got, &created)
		fromFile, err := json.Marshal(specs[0].Spec)
		if err != nil {
			t.Fatal(err)
		}
		if string(created.Spec) != string(fromFile) {
			t.Errorf("the API stored\n%s\nthe file reads as\n%s", created.Spec, fromFile)
		}
		if !strings.Contains(string(created.Spec), `"days":[6,0,1]`) {
			t.Errorf("days not stored as numbers: %s", created.Spec)
		}
		c, did, err := e.campaigns.Apply(context.Background(), specs[0].Spec)
		if err != nil || did != campaign.Unchanged || c.ID != created.ID {
			t.Fatalf("applying the file over the API's campaign: %v %s %v, want %s unchanged", c, did, err, created.ID)
		}
	})
}
