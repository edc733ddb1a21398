package crm

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/change"
	"github.com/perk-platform/perk/internal/store"
)

// commonCols start every feed's rows: the change's id in the log (unique
// and increasing within a feed: a receiver that stores it can drop a row it
// already has), when Perk wrote it, and the member's CRM id and Perk id.
var commonCols = []string{"change_id", "at", "external_id", "member_id"}

// feedDef is one feed: which changes it reads, what it joins and how a
// change becomes its rows (a points change, one per ledger entry).
type feedDef struct {
	types []string
	cols  []string // after commonCols
	// joins and extra (select expressions) may use JSON fields of the log
	// row's data through key, which binds the key's name as a parameter.
	sql func(d store.Dialect, key func(name string) string) (extra, joins, order string)
	// rows turns one change, with its extra columns scanned into ex, into
	// the feed's values after commonCols.
	rows func(c *logRow, ex []any) [][]any
	// scan is a fresh destination list for extra.
	scan func() []any
}

// logRow is one change read from the log.
type logRow struct {
	seq      int64
	typ      string
	member   string
	external string
	data     data
	at       time.Time
}

// Feeds names the feeds in the order of an export's files.
var Feeds = []string{"members", "consents", "transactions", "lines", "redemptions", "returns", "points", "messages"}

var feeds = map[string]*feedDef{
	"members": {
		types: []string{change.MemberCreated, change.MemberUpdated, change.MemberOptedOut, change.MemberErased},
		cols: []string{"change", "status", "code", "phone", "first_name", "last_name", "email", "birthday", "home_store", "tags",
			"enrolled_at", "erased_at", "changed"},
		sql: func(store.Dialect, func(string) string) (string, string, string) {
			return `m.status, m.code, m.phone, m.first_name, m.last_name, m.email, m.birthday, m.home_store, m.tags, m.enrolled_at, m.erased_at`, "", ""
		},
		scan: func() []any {
			return []any{new(sql.NullString), new(sql.NullString), new(sql.NullString), new(sql.NullString), new(sql.NullString),
				new(sql.NullString), new(sql.NullString), new(sql.NullString), new(sql.NullString), new(sql.NullTime), new(sql.NullTime)}
		},
		rows: func(c *logRow, ex []any) [][]any {
			s := func(i int) any {
				if v := ex[i].(*sql.NullString); v.Valid {
					return v.String
				}
				return nil
			}
			t := func(i int) any {
				if v := ex[i].(*sql.NullTime); v.Valid {
					return v.Time
				}
				return nil
			}
			var tags []string
			if v := ex[8].(*sql.NullString); v.Valid {
				_ = json.Unmarshal([]byte(v.String), &tags)
			}
			return [][]any{{strings.TrimPrefix(c.typ, "member."), s(0), s(1), s(2), s(3), s(4), s(5), s(6), s(7), tags,
				t(9), t(10), c.data.get("changed")}}
		},
	},
	"consents": {
		types: []string{change.ConsentChanged},
		cols:  []string{"status", "action", "method", "source"},
		rows: func(c *logRow, _ []any) [][]any {
			return [][]any{{c.data.get("status"), c.data.get("action"), c.data.get("method"), c.data.get("source")}}
		},
	},
	"transactions": {
		types: []string{change.TransactionCommitted, change.TransactionVoided},
		cols: []string{"event", "store", "transaction_id", "currency", "subtotal", "total_discount", "total", "points_earned",
			"points_redeemed", "amount_due", "value", "refund", "points_reversed", "points_refunded"},
		rows: func(c *logRow, _ []any) [][]any {
			d := c.data
			return [][]any{{strings.TrimPrefix(c.typ, "transaction."), d.get("store"), d.get("transaction_id"), d.get("currency"),
				d.get("subtotal"), d.get("total_discount"), d.get("total"), d.get("points_earned"), d.get("points_redeemed"),
				d.get("amount_due"), d.get("value"), d.get("refund"), d.get("points_reversed"), d.get("points_refunded")}}
		},
	},
	"lines": {
		types: []string{change.TransactionCommitted},
		cols:  []string{"store", "transaction_id", "line", "sku", "quantity", "unit", "unit_price", "value", "discount", "points"},
		sql: func(d store.Dialect, key func(string) string) (string, string, string) {
			return `l.line, l.sku, l.quantity, l.unit, l.measure, l.measure_price, l.unit_price, l.discount, l.points`,
				`JOIN baskets b ON b.store_id = ` + d.JSONField("f.data", key("store")) + ` AND b.transaction_id = ` +
					d.JSONField("f.data", key("transaction_id")) + ` JOIN basket_lines l ON l.basket_id = b.id`, `, l.line`
		},
		scan: func() []any {
			return []any{new(int64), new(string), new(int64), new(string), new(int64), new(int64), new(int64), new(int64), new(int64)}
		},
		rows: func(c *logRow, ex []any) [][]any {
			i := func(k int) int64 { return *ex[k].(*int64) }
			unit := *ex[3].(*string)
			qty, price, value := fmt.Sprint(i(2)), i(6), i(2)*i(6)
			if unit != "" { // a weighed line: one unit at its value, with its measure in thousandths
				m := i(4)
				qty, price, value = fmt.Sprintf("%d.%03d", m/1000, m%1000), i(5), i(6)
			}
			return [][]any{{c.data.get("store"), c.data.get("transaction_id"), i(0), *ex[1].(*string), qty, unit, price, value, i(7), i(8)}}
		},
	},
	"redemptions": {
		types: []string{change.OfferRedeemed},
		cols:  []string{"store", "transaction_id", "offer_id", "campaign_id", "campaign", "kind", "discount", "points"},
		sql: func(d store.Dialect, key func(string) string) (string, string, string) {
			return `c.name`, `LEFT JOIN campaigns c ON c.id = ` + d.JSONField("f.data", key("campaign_id")), ""
		},
		scan: func() []any { return []any{new(sql.NullString)} },
		rows: func(c *logRow, ex []any) [][]any {
			d := c.data
			return [][]any{{d.get("store"), d.get("transaction_id"), d.get("offer_id"), d.get("campaign_id"), ex[0].(*sql.NullString).String,
				d.get("kind"), d.get("discount"), d.get("points")}}
		},
	},
	"returns": {
		types: []string{change.TransactionReturned},
		cols:  []string{"store", "transaction_id", "return_id", "value", "refund", "points_reversed", "points_refunded", "offers_restored"},
		rows: func(c *logRow, _ []any) [][]any {
			d := c.data
			return [][]any{{d.get("store"), d.get("transaction_id"), d.get("return_id"), d.get("value"), d.get("refund"),
				d.get("points_reversed"), d.get("points_refunded"), d.get("offers_restored")}}
		},
	},
	"points": {
		types: []string{change.PointsChanged},
		cols:  []string{"entry_id", "kind", "points", "reason", "transaction_id", "campaign_id"},
		rows: func(c *logRow, _ []any) [][]any {
			entries, _ := c.data["entries"].([]any)
			out := make([][]any, 0, len(entries))
			for _, e := range entries {
				m, _ := e.(map[string]any)
				d := data(m)
				out = append(out, []any{d.get("id"), d.get("kind"), d.get("points"), d.get("reason"), d.get("transaction_id"), d.get("campaign_id")})
			}
			return out
		},
	},
	"messages": {
		types: []string{change.SMSDelivered, change.SMSFailed},
		cols:  []string{"event", "message_id", "state", "purpose", "kind", "campaign_id", "sent_at"},
		sql: func(d store.Dialect, key func(string) string) (string, string, string) {
			return `o.purpose, o.kind, o.campaign_id, o.sent_at`, `LEFT JOIN sms_outbox o ON o.id = ` + d.JSONField("f.data", key("message_id")), ""
		},
		scan: func() []any {
			return []any{new(sql.NullString), new(sql.NullString), new(sql.NullString), new(sql.NullTime)}
		},
		rows: func(c *logRow, ex []any) [][]any {
			var sent any
			if t := ex[3].(*sql.NullTime); t.Valid {
				sent = t.Time
			}
			return [][]any{{strings.TrimPrefix(c.typ, "sms."), c.data.get("message_id"), c.data.get("state"),
				ex[0].(*sql.NullString).String, ex[1].(*sql.NullString).String, ex[2].(*sql.NullString).String, sent}}
		},
	},
}

// Columns returns a feed's columns, as its CSV header and JSON keys.
func Columns(feed string) []string {
	f := feeds[feed]
	if f == nil {
		return nil
	}
	return append(append([]string(nil), commonCols...), f.cols...)
}
