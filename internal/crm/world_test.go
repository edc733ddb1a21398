package crm_test

import (
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/crm"
	"github.com/perk-platform/perk/internal/ledger"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/outfile"
	"github.com/perk-platform/perk/internal/sms"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/testenv"
)

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// world is the domain services wired to the CRM feed as perk serve wires
// them, with store S1 and a launched campaign giving £1 off a basket.
type world struct {
	db      *store.DB
	clk     *testenv.Clock
	members *member.Service
	till    *checkout.Service
	points  *ledger.Ledger
	queue   *sms.Queue
	export  *crm.Exporter
}

func newWorld(t *testing.T, db *store.DB) *world {
	t.Helper()
	ctx := context.Background()
	clk := testenv.NewClock(t0)
	now := clk.Now
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	feed := crm.NewFeed(db, now)
	members := member.NewService(db, member.Options{Region: "GB", PublicURL: "https://perk.test", Now: now, Log: log, Changes: feed})
	camps := campaign.NewService(db, campaign.Options{Zone: time.UTC, PublicURL: "https://perk.test", Now: now, Log: log})
	points := ledger.New(db, ledger.Policy{}, now)
	points.SetChanges(feed)
	queue := sms.NewQueue(db, now, time.Minute, 5)
	queue.SetChanges(feed)
	till := checkout.NewService(db, members, camps, points, checkout.Options{Currency: "GBP", BaseEarn: 1, Now: now, Log: log, Changes: feed})
	if _, err := db.W.Exec(`INSERT INTO stores (id, name, timezone, created_at) VALUES ('S1', 'High Street', 'Europe/London', $1)`, t0); err != nil {
		t.Fatal(err)
	}
	c, err := camps.Create(ctx, campaign.Spec{Name: "Pound off", Audience: campaign.Audience{Kind: campaign.AudienceAll},
		Start: t0.Add(-time.Hour).Format(time.RFC3339), End: t0.Add(30 * 24 * time.Hour).Format(time.RFC3339),
		Benefits: []engine.Benefit{{Kind: engine.AmountOff, Amount: 100}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := camps.Launch(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	return &world{db: db, clk: clk, members: members, till: till, points: points, queue: queue, export: crm.NewExporter(db, now)}
}

func (w *world) enrol(t *testing.T, phone, ext, name string) *member.Member {
	t.Helper()
	e, err := w.members.Enrol(context.Background(), member.EnrolRequest{Profile: member.Profile{Phone: phone, ExternalID: ext, FirstName: name},
		Channel: member.ChannelAPI, Consent: true})
	if err != nil {
		t.Fatalf("enrol %s: %v", ext, err)
	}
	return e.Member
}

func (w *world) commit(t *testing.T, memberCode, txn string, items ...checkout.Item) {
	t.Helper()
	req := &checkout.Request{Store: "S1", Terminal: "T1", Currency: "GBP", TransactionID: txn, Items: items}
	if memberCode != "" {
		req.Member = checkout.Key(memberCode)
	}
	if _, err := w.till.Commit(context.Background(), req); err != nil {
		t.Fatalf("commit %s: %v", txn, err)
	}
}

// message queues a message to m, sends it under gateway id gid and, when
// state is set, records the receipt.
func (w *world) message(t *testing.T, m *member.Member, gid, state string) {
	t.Helper()
	ctx := context.Background()
	err := w.db.Tx(ctx, func(tx *sql.Tx) error {
		_, err := sms.Enqueue(ctx, tx, sms.Outbound{MemberID: m.ID, To: string(m.Phone), Body: "Hi", Kind: sms.Transactional, Purpose: "test"}, w.clk.Now())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := w.queue.Claim(ctx, 100)
	if err != nil {
		t.Fatalf("claim: %v", err)
	}
	sent := 0
	for _, msg := range msgs {
		if msg.MemberID != m.ID || msg.Purpose != "test" {
			// The welcomes the enrolments queued wait; this test is about
			// its own messages.
			if err := w.queue.Defer(ctx, msg, "test", w.clk.Now().Add(24*time.Hour)); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := w.queue.Sent(ctx, msg, gid, 1); err != nil {
			t.Fatalf("sent: %v", err)
		}
		sent++
	}
	if sent != 1 {
		t.Fatalf("claimed %d of the test's messages, want 1", sent)
	}
	if state != "" {
		if err := w.queue.Delivered(ctx, sms.Receipt{GatewayID: gid, State: state, At: w.clk.Now()}); err != nil {
			t.Fatalf("receipt: %v", err)
		}
	}
}

// exported is one export folder read back: each feed's rows by column.
type exported struct {
	manifest *crm.Manifest
	feeds    map[string][]map[string]string
}

// exportTo runs an export into a new folder and reads every file back,
// checking first that the manifest's rows, bytes and hashes are the files'.
func (w *world) exportTo(t *testing.T, since string, format outfile.Format) *exported {
	return w.exportWaiting(t, since, format, testWait)
}

// testWait is how long the tests' exports wait for transactions in flight:
// on a PostgreSQL server shared with other tests, theirs hold the boundary
// back too.
const testWait = 2 * time.Minute

func (w *world) exportWaiting(t *testing.T, since string, format outfile.Format, wait time.Duration) *exported {
	t.Helper()
	dir := t.TempDir()
	m, err := w.export.Export(context.Background(), dir, since, format, wait)
	if err != nil {
		t.Fatalf("export since %q: %v", since, err)
	}
	var onDisk crm.Manifest
	b, err := os.ReadFile(filepath.Join(dir, crm.ManifestName))
	if err != nil || json.Unmarshal(b, &onDisk) != nil || onDisk.Cursor != m.Cursor {
		t.Fatalf("manifest file: %v %s", err, b)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != len(crm.Feeds)+1 {
		t.Errorf("the folder holds %d entries, want the %d feeds and the manifest (no temporary file left)", len(ents), len(crm.Feeds))
	}
	out := &exported{manifest: m, feeds: map[string][]map[string]string{}}
	for i, feed := range crm.Feeds {
		f := onDisk.Files[i]
		if f.Name != feed+"."+string(format) {
			t.Fatalf("manifest file %d is %s, want %s", i, f.Name, feed)
		}
		rows, sum, size := readFeed(t, filepath.Join(dir, f.Name), format)
		if int64(len(rows)) != f.Rows || sum != f.SHA256 || size != f.Bytes {
			t.Errorf("%s: the manifest says %d rows, %d bytes, sha256 %s; the file has %d, %d, %s", f.Name, f.Rows, f.Bytes, f.SHA256, len(rows), size, sum)
		}
		for _, r := range rows {
			for _, c := range crm.Columns(feed) {
				if _, ok := r[c]; !ok {
					t.Fatalf("%s: a row lacks column %s: %v", f.Name, c, r)
				}
			}
		}
		out.feeds[feed] = rows
	}
	return out
}

// project lists a feed's rows as the values of cols joined by spaces, so a
// test states a feed in a line per row.
func (e *exported) project(feed string, cols ...string) []string {
	var out []string
	for _, r := range e.feeds[feed] {
		vs := make([]string, len(cols))
		for i, c := range cols {
			vs[i] = r[c]
		}
		out = append(out, strings.Join(vs, " "))
	}
	return out
}

func readFeed(t *testing.T, path string, format outfile.Format) (rows []map[string]string, sum string, size int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum, size = sha256Hex(b), int64(len(b))
	if format == outfile.CSV {
		recs, err := csv.NewReader(strings.NewReader(string(b))).ReadAll()
		if err != nil || len(recs) == 0 {
			t.Fatalf("%s: %v", path, err)
		}
		for _, rec := range recs[1:] {
			r := map[string]string{}
			for i, c := range recs[0] {
				r[c] = rec[i]
			}
			rows = append(rows, r)
		}
		return rows, sum, size
	}
	for i, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if line == "" {
			continue
		}
		var obj map[string]any
		dec := json.NewDecoder(strings.NewReader(line))
		dec.UseNumber()
		if err := dec.Decode(&obj); err != nil {
			t.Fatalf("%s line %d: %v", path, i+1, err)
		}
		r := map[string]string{}
		for k, v := range obj {
			switch v := v.(type) {
			case nil:
				r[k] = ""
			case []any:
				s := make([]string, len(v))
				for j := range v {
					s[j] = fmt.Sprint(v[j])
				}
				r[k] = strings.Join(s, ";")
			default:
				r[k] = fmt.Sprint(v)
			}
		}
		rows = append(rows, r)
	}
	return rows, sum, size
}
