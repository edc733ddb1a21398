package journey

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/testenv"
)

// BenchmarkCounts_100kMembers is the cost of one journey page (or its live
// redraw every 5 s, or GET /v1/journeys/{name}/counts): Counts over a
// journey 100,000 members have entered (10% held out; of the treated, a
// fifth still waiting at the first step, the rest past both steps), written
// straight into the tables. The log rows carry no message, so the join to
// the SMS queue finds nothing. Besides ns/op it reports this process's CPU
// per call and, on PostgreSQL, the server backend's (one read connection).
//
//	go test -run '^$' -bench Counts_100kMembers -benchtime 20x ./internal/journey/
func BenchmarkCounts_100kMembers(b *testing.B) {
	const members = 100_000
	for _, engine := range []string{"sqlite", "postgres"} {
		db := storetest.Engine(b, engine)
		db.R.SetMaxOpenConns(1)
		s := NewService(db, Options{Now: func() time.Time { return t0 }})
		def := Definition{Name: "big", Trigger: Filter{Event: CartAbandoned}, Goal: &Goal{Filter: Filter{Event: CartRecovered}}, Holdout: 10,
			Steps: []Step{{ID: "pause", Wait: Duration(time.Hour)}, {ID: "reminder", SMS: "hi"}}}
		if _, err := s.Apply(context.Background(), def); err != nil {
			b.Fatal(err)
		}
		fillEnrolments(b, db, "big", members)
		b.Run(engine, func(b *testing.B) {
			ctx := context.Background()
			cpu, server := testenv.ProcessCPU().Seconds(), testenv.BackendCPU(b, db).Seconds()
			var r *Report
			for b.Loop() {
				var err error
				if r, err = s.Counts(ctx, "big"); err != nil {
					b.Fatal(err)
				}
			}
			if r.Entered != members || len(r.Steps) != 2 || r.Holdout.Entered != members/10 {
				b.Fatalf("counts: %+v", r)
			}
			b.ReportMetric((testenv.ProcessCPU().Seconds()-cpu)*1000/float64(b.N), "cpu-ms/op")
			if engine == "postgres" {
				b.ReportMetric((testenv.BackendCPU(b, db).Seconds()-server)*1000/float64(b.N), "server-cpu-ms/op")
			}
		})
	}
}

// fillEnrolments writes n enrolments of journey (every tenth held out) and
// the treated ones' step log, 500 rows a statement.
func fillEnrolments(b *testing.B, db *store.DB, journey string, n int) {
	ctx := context.Background()
	tx, err := db.W.Begin()
	if err != nil {
		b.Fatal(err)
	}
	var enr, steps []string
	flush := func(force bool) {
		if len(enr) >= 500 || (force && len(enr) > 0) {
			if _, err := tx.ExecContext(ctx, `INSERT INTO journey_enrolments (id, journey, version, member_id, holdout, state, step,
				next_at, trigger_seq, entered_at, exit_reason, converted_at) VALUES `+strings.Join(enr, ","), t0); err != nil {
				b.Fatal(err)
			}
			enr = enr[:0]
		}
		if len(steps) >= 500 || (force && len(steps) > 0) {
			if _, err := tx.ExecContext(ctx, `INSERT INTO journey_steps (enrolment_id, n, journey, version, step, kind, outcome, at) VALUES `+
				strings.Join(steps, ","), t0); err != nil {
				b.Fatal(err)
			}
			steps = steps[:0]
		}
	}
	for i := range n {
		id := fmt.Sprintf("jen_%07d", i)
		hold, state, step, next, reason, conv := 0, "'ended'", 2, "NULL", "'completed'", "NULL"
		switch {
		case i%10 == 0:
			hold, state, step, next, reason = 1, "'active'", 0, "$1", "''"
		case i%5 == 1:
			state, step, next, reason = "'active'", 0, "$1", "''"
		}
		if i%7 == 0 {
			conv = "$1"
		}
		enr = append(enr, fmt.Sprintf("('%s', '%s', 1, 'mem_%07d', %d, %s, %d, %s, %d, $1, %s, %s)", id, journey, i, hold, state, step, next, i+1, reason, conv))
		if hold == 0 && step == 2 {
			steps = append(steps, fmt.Sprintf("('%s', 0, '%s', 1, 'pause', 'wait', 'waited', $1)", id, journey),
				fmt.Sprintf("('%s', 1, '%s', 1, 'reminder', 'sms', 'queued', $1)", id, journey))
		}
		flush(false)
	}
	flush(true)
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}
