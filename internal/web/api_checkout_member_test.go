package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// TestCheckout_AnonymousMeansNoMemberFieldNotAnEmptyOne: a till that
// leaves "member" out, or sends null, rings up an anonymous basket; one that
// sends an empty key has lost the shopper it meant to name, and is told so
// rather than served as anonymous (its points would be lost silently).
func TestCheckout_AnonymousMeansNoMemberFieldNotAnEmptyOne(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		items := `"items":[{"line":1,"sku":"A","quantity":1,"unit_price":100}]`
		for i, c := range []struct {
			name, member string // member is the raw JSON field, "" for none
			status       int
			code         string
		}{
			{"member absent is anonymous", ``, http.StatusOK, ""},
			{"member null is anonymous", `"member":null,`, http.StatusOK, ""},
			{"member empty is a till's bug", `"member":"",`, http.StatusUnprocessableEntity, "member_empty"},
		} {
			for _, call := range []string{"evaluate", "commit"} {
				t.Run(c.name+"/"+call, func(t *testing.T) {
					body := fmt.Sprintf(`{"store":"S001","currency":"GBP",%s"transaction_id":"T-%d",%s}`, c.member, i, items)
					st, got, _ := e.do("POST", "/v1/checkout/"+call, auth.RolePOS, body)
					if st != c.status {
						t.Fatalf("%s: %d %s, want %d", body, st, got, c.status)
					}
					if c.code != "" && (!strings.Contains(string(got), `"code":"`+c.code+`"`) || !strings.Contains(string(got), `"field":"member"`)) {
						t.Fatalf("%s: %s, want code %s on field member", body, got, c.code)
					}
					if c.status == http.StatusOK && !strings.Contains(string(got), `"member":null`) {
						t.Fatalf("%s: %s, want an anonymous answer", body, got)
					}
				})
			}
		}
	})
}

// TestAPI_CRMIdIsAMemberKeyEverywhere: "ext:" and the CRM's own id name the
// member in an API path, at the till and in the member's sub-resources; an
// unknown CRM id is a 404, a bare one is never taken for it.
func TestAPI_CRMIdIsAMemberKeyEverywhere(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		if st, out, _ := e.do("POST", "/v1/members", auth.RoleAdmin,
			`{"phone":"07400123450","external_id":"CRM-5","consent":{"sms":true}}`); st != 201 && st != 200 {
			t.Fatalf("enrol: %d %s", st, out)
		}
		id := decodeMember(t, mustGet(t, e, "/v1/members/07400123450")).ID
		for _, c := range []struct {
			method, path, body string
			status             int
			want               string
		}{
			{"GET", "/v1/members/ext:CRM-5", "", 200, `"id":"` + id + `"`},
			{"GET", "/v1/members/ext:CRM-5/consents", "", 200, `"action":"granted"`},
			{"PATCH", "/v1/members/ext:CRM-5", `{"first_name":"Ann"}`, 200, `"first_name":"Ann"`},
			{"GET", "/v1/members/ext:CRM-6", "", 404, `"code":"member_not_found"`},
			{"GET", "/v1/members/CRM-5", "", 422, `"field":"phone"`},
			{"POST", "/v1/checkout/commit", `{"store":"S001","currency":"GBP","member":"ext:CRM-5","transaction_id":"T-1",` +
				`"items":[{"line":1,"sku":"A","quantity":1,"unit_price":100}]}`, 200, `"id":"` + id + `"`},
		} {
			st, out, _ := e.do(c.method, c.path, auth.RoleAdmin, c.body)
			if st != c.status || !strings.Contains(string(out), c.want) {
				t.Errorf("%s %s = %d %s, want %d with %s", c.method, c.path, st, out, c.status, c.want)
			}
		}
	})
}
