package mart_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/ledger"
	"github.com/perk-platform/perk/internal/links"
	"github.com/perk-platform/perk/internal/mart"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/profile"
	"github.com/perk-platform/perk/internal/referral"
	"github.com/perk-platform/perk/internal/sms"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/testenv"
)

type clock = testenv.Clock

// world is a small programme: two stores, members, a launched campaign with
// announcements, sent and receipted messages, a click, baskets with a
// redemption, a return and a void, an inbound reply, opt-outs and an
// erasure, made over two days so --since has something to cut.
type world struct {
	db        *store.DB
	clock     *clock
	members   []*member.Member
	day2      time.Time // the start of the second day
	secrets   []string  // personal data that must appear in no exported byte
	campaigns *campaign.Service
	checkout  *checkout.Service
}

var day1 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func newWorld(t *testing.T, db *store.DB) *world {
	t.Helper()
	ctx := context.Background()
	c := testenv.NewClock(day1)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	w := &world{db: db, clock: c, day2: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)}
	ms := member.NewService(db, member.Options{Region: "GB", PublicURL: "https://perk.test", Programme: "Test Rewards", Now: c.Now, Log: log})
	ls := links.NewService(db, "https://perk.test", c.Now)
	w.campaigns = campaign.NewService(db, campaign.Options{Zone: time.UTC, PublicURL: "https://perk.test", Programme: "Test Rewards",
		Links: ls, Now: c.Now, Log: log})
	led := ledger.New(db, ledger.Policy{}, c.Now)
	// Referrals on: the last member joins with the first one's code.
	refs := referral.New(db, led, w.campaigns, referral.Options{PublicURL: "https://perk.test", Now: c.Now, Log: log})
	ms.SetReferrals(refs)
	if _, err := refs.Save(ctx, referral.Settings{Enabled: true, Qualify: referral.QualifyPurchase, WithinDays: 30,
		Referrer: &referral.Reward{Kind: referral.RewardPoints, Points: 100}}); err != nil {
		t.Fatal(err)
	}
	co := checkout.NewService(db, ms, w.campaigns, led, checkout.Options{Currency: "GBP", BaseEarn: 1, Now: c.Now, Log: log, Referrals: refs})
	w.checkout = co
	q := sms.NewQueue(db, c.Now, time.Minute, 5)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err := db.W.Exec(`INSERT INTO stores (id, name, timezone, created_at) VALUES ('S1', 'High Street', 'Europe/London', $1), ('S2', 'Station', 'Europe/London', $1)`, c.Now())
	must(err)

	people := []struct{ first, last, email, tag string }{
		{"Zelda", "Quagmire", "zelda.q@example.com", "vip"}, {"Yannick", "Pemberton", "yannick.p@example.com", "vip"},
		{"Xavier", "Ormsby", "", ""}, {"Wilhelmina", "Nettlefold", "w.nettlefold@example.com", "vip"},
	}
	for i, p := range people {
		ph := fmt.Sprintf("+4477009%05d", 31+i)
		var tags []string
		if p.tag != "" {
			tags = []string{p.tag, "big;spender"}
		}
		ref := ""
		if i == len(people)-1 {
			var err error
			ref, err = refs.Code(ctx, w.members[0].ID)
			must(err)
		}
		e, err := ms.Enrol(ctx, member.EnrolRequest{Profile: member.Profile{Phone: ph, FirstName: p.first, LastName: p.last,
			Email: p.email, Birthday: "1980-02-29", ExternalID: "CRM-SECRET-" + p.first, Tags: tags, HomeStore: "S1"},
			Channel: member.ChannelAPI, Consent: true, Referral: ref})
		must(err)
		w.members = append(w.members, e.Member)
		w.secrets = append(w.secrets, ph, strings.TrimPrefix(ph, "+"), "0"+ph[3:], p.first, p.last, "CRM-SECRET", "1980-02-29")
		if p.email != "" {
			w.secrets = append(w.secrets, p.email)
		}
	}

	// A campaign for the vip tag with an announcement holding a link.
	spring, err := w.campaigns.Create(ctx, campaign.Spec{Name: "Spring bread", Start: day1.Add(-time.Hour).Format(time.RFC3339),
		End: day1.Add(30 * 24 * time.Hour).Format(time.RFC3339), Audience: campaign.Audience{Kind: campaign.AudienceFilter,
			Filter: &campaign.Filter{Tags: []string{"vip"}}},
		Benefits: []engine.Benefit{{Kind: engine.PercentOff, Percent: 20, Scope: engine.Scope{SKUs: []string{"BREAD"}}}},
		Priority: 5, Exclusive: true, Stores: []string{"S1", "S2"},
		Message: `Hi {{.FirstName}}, 20% off bread: {{link "https://shop.example.com/bread"}} card {{.CardURL}}`})
	must(err)
	_, err = w.campaigns.Launch(ctx, spring.ID)
	must(err)
	_, err = w.campaigns.Create(ctx, campaign.Spec{Name: "Draft winter", Start: "2026-12-01", End: "2027-01-01",
		Audience: campaign.Audience{Kind: campaign.AudienceAll}, ControlGroup: 10,
		Benefits: []engine.Benefit{{Kind: engine.PointsMultiplier, Multiplier: 2}}})
	must(err)

	// A transactional message outside any campaign, then send everything and
	// receipt two.
	_, err = sms.Enqueue(ctx, db.W, sms.Outbound{MemberID: w.members[2].ID, To: string(w.members[2].Phone), Body: "Your code is " + string(w.members[2].Code),
		Kind: sms.Transactional, Purpose: "code"}, c.Now())
	must(err)
	c.Set(day1.Add(time.Minute))
	claimed, err := q.Claim(ctx, 100)
	must(err)
	for i, m := range claimed {
		must(q.Sent(ctx, m, fmt.Sprintf("gw-%d", i), 1+i%2))
	}
	must(q.Delivered(ctx, sms.Receipt{GatewayID: "gw-0", State: sms.Delivered, At: day1.Add(2 * time.Minute)}))
	must(q.Delivered(ctx, sms.Receipt{GatewayID: "gw-1", State: sms.Undeliv, At: day1.Add(2 * time.Minute)}))

	// Member 0 clicks the link in the announcement.
	var code string
	must(db.R.QueryRow(`SELECT code FROM short_links WHERE member_id = $1`, w.members[0].ID).Scan(&code))
	c.Set(day1.Add(time.Hour))
	_, err = ls.Click(ctx, code)
	must(err)

	// Baskets: member 0 redeems, an anonymous shopper, member 2 (not in the
	// audience); member 0 returns a loaf.
	items := func(n int) []checkout.Item {
		return []checkout.Item{{Line: 1, SKU: "BREAD", Quantity: n, UnitPrice: 250, Categories: []string{"bakery", "fresh"}},
			{Line: 2, SKU: "MILK", Quantity: 1, UnitPrice: 99, Categories: []string{"dairy"}}}
	}
	commit := func(storeID, txn, who string, n int) {
		t.Helper()
		_, err := co.Commit(ctx, &checkout.Request{Store: storeID, Terminal: "T1", Member: checkout.Key(who), Currency: "GBP", Items: items(n), TransactionID: txn})
		must(err)
	}
	c.Set(day1.Add(2 * time.Hour))
	commit("S1", "T-1", string(w.members[0].Code), 2)
	commit("S1", "T-2", "", 1)
	commit("S2", "T-1", string(w.members[2].Code), 3)
	c.Set(day1.Add(3 * time.Hour))
	_, err = co.Return(ctx, &checkout.ReturnRequest{Store: "S1", TransactionID: "T-1", ReturnID: "R-1",
		Items: []checkout.ReturnItem{{Line: 1, Quantity: 1}}})
	must(err)
	// An anonymous shopper buys 0.750 kg of cheese at 18.99/kg and brings
	// 0.250 kg back.
	_, err = co.Commit(ctx, &checkout.Request{Store: "S1", Terminal: "T1", Currency: "GBP", TransactionID: "T-3",
		Items: []checkout.Item{{Line: 1, SKU: "CHEESE", Measure: 750, Unit: "kg", UnitPrice: 1899, Categories: []string{"deli"}}}})
	must(err)
	_, err = co.Return(ctx, &checkout.ReturnRequest{Store: "S1", TransactionID: "T-3", ReturnID: "R-2",
		Items: []checkout.ReturnItem{{Line: 1, Measure: 250}}})
	must(err)

	// Member 2 texts STOP.
	_, err = db.W.Exec(`INSERT INTO sms_inbox (id, from_phone, to_addr, body, keyword, member_id, received_at)
		VALUES ('mo_1', $1, '60777', 'STOP please Xavier', 'STOP', $2, $3)`, string(w.members[2].Phone), w.members[2].ID, c.Now())
	must(err)
	_, err = ms.OptOut(ctx, w.members[2].ID, member.Origin{Method: member.ChannelSMS, Source: "STOP", Campaign: spring.ID})
	must(err)

	// Day 2: member 1 redeems, a basket of day 1 is voided, member 3 opts
	// out on the web and is then erased, a message is queued, a reply comes.
	c.Set(w.day2.Add(9 * time.Hour))
	commit("S2", "T-2", string(w.members[1].Code), 1)
	_, err = co.Void(ctx, &checkout.VoidRequest{Store: "S1", TransactionID: "T-2"})
	must(err)
	_, err = ms.OptOut(ctx, w.members[3].ID, member.Origin{Method: member.ChannelWeb, Source: "preferences"})
	must(err)
	must(ms.Erase(ctx, w.members[3].ID))
	_, err = sms.Enqueue(ctx, db.W, sms.Outbound{MemberID: w.members[1].ID, To: string(w.members[1].Phone), Body: "Thanks Yannick",
		Kind: sms.Marketing, Purpose: "thanks"}, c.Now())
	must(err)
	_, err = db.W.Exec(`INSERT INTO sms_inbox (id, from_phone, to_addr, body, keyword, member_id, received_at)
		VALUES ('mo_2', $1, '60777', 'what is this', '', $2, $3)`, string(w.members[1].Phone), w.members[1].ID, c.Now())
	must(err)
	// Profiles as the nightly refresh leaves them, for dim_member_profile.
	_, err = profile.NewService(db, profile.Options{Now: c.Now}, log).Refresh(ctx)
	must(err)
	c.Set(w.day2.Add(10 * time.Hour))
	return w
}

// table is an exported file read back: the header and the rows as strings.
type table struct {
	header []string
	rows   [][]string
}

func (tb table) col(name string) int {
	for i, h := range tb.header {
		if h == name {
			return i
		}
	}
	panic("no column " + name)
}

func (tb table) values(name string) []string {
	i := tb.col(name)
	out := make([]string, len(tb.rows))
	for j, r := range tb.rows {
		out[j] = r[i]
	}
	return out
}

func readCSV(t *testing.T, path string) table {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return table{header: recs[0], rows: recs[1:]}
}

// readParquet reads a parquet file with the library and renders every value
// the way the CSV writer does, so the two can be compared.
func readParquet(t *testing.T, path string, tab mart.Table) table {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	out := table{}
	for _, c := range pf.Schema().Columns() {
		out.header = append(out.header, c[0])
	}
	r := parquet.NewReader(pf)
	defer r.Close()
	buf := make([]parquet.Row, 64)
	for {
		n, err := r.ReadRows(buf)
		for _, row := range buf[:n] {
			rec := make([]string, len(tab.Columns))
			for _, v := range row {
				i := v.Column()
				if v.IsNull() {
					continue
				}
				switch tab.Columns[i].Kind {
				case mart.String:
					rec[i] = string(v.ByteArray())
				case mart.Int:
					rec[i] = fmt.Sprint(v.Int64())
				case mart.Time:
					rec[i] = time.UnixMicro(v.Int64()).UTC().Format(time.RFC3339Nano)
				case mart.Date:
					rec[i] = time.Unix(int64(v.Int32())*86400, 0).UTC().Format(time.DateOnly)
				case mart.Bool:
					rec[i] = fmt.Sprint(v.Boolean())
				}
			}
			out.rows = append(out.rows, rec)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	return out
}

func readAll(t *testing.T, dir, format string) map[string]table {
	t.Helper()
	out := map[string]table{}
	for _, tab := range mart.Tables {
		p := filepath.Join(dir, tab.Name+"."+format)
		if format == mart.Parquet {
			out[tab.Name] = readParquet(t, p, tab)
		} else {
			out[tab.Name] = readCSV(t, p)
		}
	}
	return out
}
