package web_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/change"
	"github.com/perk-platform/perk/internal/crm"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/web"
)

// withCRMFeed serves the CRM feed. Its reads wait long: on a PostgreSQL
// server shared with other tests, their write transactions hold the feed
// back too.
func withCRMFeed(db *store.DB) func(*web.Options) {
	return func(o *web.Options) { o.CRMFeed, o.CRMFeedWait = crm.NewExporter(db, nil), 2*time.Minute }
}

// TestCRMFeedAPI_StreamsAFeedByCursorWithItsCountAndHash: a feed answers
// its rows after since with the next cursor in a header and the row count
// and SHA-256 of the body in trailers; the cursor given back yields nothing
// new; until reads another feed over the same changes; mistakes are 422
// naming the field, and a till's key may not read the feed.
func TestCRMFeedAPI_StreamsAFeedByCursorWithItsCountAndHash(t *testing.T) {
	storetest.EachIsolated(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, withCRMFeed(db))
		ann := e.enrol("07700900601")
		if _, err := db.W.Exec(`UPDATE members SET external_id = 'CRM-9' WHERE id = $1`, ann.ID); err != nil {
			t.Fatal(err)
		}
		feed := crm.NewFeed(db, nil)
		record := func(events ...change.Event) {
			t.Helper()
			if err := db.Tx(context.Background(), func(tx *sql.Tx) error { return feed.Record(context.Background(), tx, events...) }); err != nil {
				t.Fatal(err)
			}
		}
		record(change.Event{Type: change.ConsentChanged, MemberID: ann.ID, Data: map[string]any{"status": "active", "action": "granted", "method": "api", "source": "test"}},
			change.Event{Type: change.TransactionCommitted, Data: map[string]any{"transaction_id": "T-ANON"}}) // anonymous: not in the feed

		get := func(path string, role auth.Role) (int, []byte, http.Header) {
			t.Helper()
			return e.do("GET", path, role, nil)
		}
		status, body, h := get("/v1/crm/export/consents", auth.RoleManager)
		if status != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") {
			t.Fatalf("consents: %d %s %s", status, h.Get("Content-Type"), body)
		}
		lines := strings.Split(strings.TrimSpace(string(body)), "\n")
		if len(lines) != 2 || lines[0] != strings.Join(crm.Columns("consents"), ",") || !strings.Contains(lines[1], ",CRM-9,"+ann.ID+",active,granted,api,test") {
			t.Fatalf("consents body:\n%s", body)
		}
		sum := sha256.Sum256(body)
		if h.Get(web.HeaderCRMRows) != "1" || h.Get(web.HeaderCRMSHA256) != hex.EncodeToString(sum[:]) {
			t.Errorf("trailers: rows %q sha256 %q, want 1 and %x", h.Get(web.HeaderCRMRows), h.Get(web.HeaderCRMSHA256), sum)
		}
		cursor := h.Get(web.HeaderCRMCursor)
		if cursor == "" {
			t.Fatal("no Perk-Cursor")
		}
		// The transactions feed over the same changes: the anonymous basket
		// is not in it.
		if status, body, _ := get("/v1/crm/export/transactions?until="+url.QueryEscape(cursor), auth.RoleReporting); status != http.StatusOK ||
			strings.Count(string(body), "\n") != 1 {
			t.Errorf("transactions until the cursor: %d\n%s", status, body)
		}
		// Since the cursor: nothing; then a new change, and only it, in JSON Lines.
		if status, body, h := get("/v1/crm/export/consents?since="+url.QueryEscape(cursor), auth.RoleManager); status != http.StatusOK ||
			strings.Count(string(body), "\n") != 1 || h.Get(web.HeaderCRMRows) != "0" {
			t.Errorf("since the cursor: %d rows %s\n%s", status, h.Get(web.HeaderCRMRows), body)
		}
		record(change.Event{Type: change.ConsentChanged, MemberID: ann.ID, Data: map[string]any{"status": "opted_out", "action": "withdrawn", "method": "sms", "source": "STOP"}})
		status, body, h = get("/v1/crm/export/consents?format=jsonl&since="+url.QueryEscape(cursor), auth.RoleManager)
		var row map[string]any
		if status != http.StatusOK || h.Get("Content-Type") != "application/x-ndjson" || json.Unmarshal(body, &row) != nil ||
			row["external_id"] != "CRM-9" || row["action"] != "withdrawn" || h.Get(web.HeaderCRMRows) != "1" {
			t.Errorf("JSON Lines since the cursor: %d %s\n%s", status, h.Get("Content-Type"), body)
		}

		for _, tc := range []struct{ path, code, field string }{
			{"/v1/crm/export/baskets", "feed_unknown", "feed"},
			{"/v1/crm/export/members?since=yesterday", "cursor_invalid", "since"},
			{"/v1/crm/export/members?until=" + url.QueryEscape(cursor[:strings.LastIndexByte(cursor, '.')+1]+"99999999999"), "cursor_ahead", "until"},
			{"/v1/crm/export/members?format=xml", "format_invalid", "format"},
		} {
			status, body, _ := get(tc.path, auth.RoleManager)
			if code, field := errorOf(t, body); status != http.StatusUnprocessableEntity || code != tc.code || field != tc.field {
				t.Errorf("%s: %d %s %s, want 422 %s %s", tc.path, status, code, field, tc.code, tc.field)
			}
		}
		if status, _, _ := get("/v1/crm/export/members", auth.RolePOS); status != http.StatusForbidden {
			t.Errorf("a till's key read the feed: %d", status)
		}
	})
}
