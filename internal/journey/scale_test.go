package journey

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/event"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/testenv"
)

// BenchmarkJourneyScale enters PERK_BENCH_JOURNEY_MEMBERS shoppers (1,000 by
// default; the figure is 100,000) into one journey at once, wait 1m
// → sms → tag → wait_for a purchase that does not come (timeout 1m), on the
// real clock with the runner as perk serve runs it (Run, a 1 s tick), and
// reports how late the timers fired (the step log's at against due_at),
// p50/p99/max, and the CPU per step run (the Go process, and on PostgreSQL
// the backends of the benchmark's own connections). Run it once per
// engine:
//
//	PERK_BENCH_JOURNEY_MEMBERS=100000 go test ./internal/journey/ -run '^$' -bench JourneyScale -benchtime 1x -timeout 1h
func BenchmarkJourneyScale(b *testing.B) {
	n := 1000
	if v := os.Getenv("PERK_BENCH_JOURNEY_MEMBERS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 100 {
			b.Fatalf("PERK_BENCH_JOURNEY_MEMBERS=%q: a number of at least 100", v)
		}
		n -= n % 100
	}
	wait := time.Minute
	if v := os.Getenv("PERK_BENCH_JOURNEY_WAIT"); v != "" {
		var err error
		if wait, err = time.ParseDuration(v); err != nil {
			b.Fatal(err)
		}
	}
	rate := 100
	if v := os.Getenv("PERK_BENCH_JOURNEY_STEADY_RATE"); v != "" {
		var err error
		if rate, err = strconv.Atoi(v); err != nil || rate < 0 {
			b.Fatalf("PERK_BENCH_JOURNEY_STEADY_RATE=%q: members a second, 0 for no steady phase", v)
		}
	}
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			for range b.N {
				scaleRun(b, engine, n, wait, rate)
			}
		})
	}
}

// benchDB opens a fresh database; on PostgreSQL its connections carry an
// application_name of their own, by which their backends' CPU is found.
func benchDB(b *testing.B, engine string) (*store.DB, string) {
	if engine == "sqlite" {
		return storetest.SQLite(b), ""
	}
	var r [4]byte
	rand.Read(r[:])
	app := "perk_jbench_" + hex.EncodeToString(r[:])
	dsn := storetest.DSN(b, testenv.Env(b, storetest.PostgresEnv, "PostgreSQL"))
	u, err := url.Parse(dsn)
	if err != nil {
		b.Fatal(err)
	}
	q := u.Query()
	q.Set("application_name", app)
	u.RawQuery = q.Encode()
	db, err := store.Open(context.Background(), u.String())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	return db, app
}

// backendsCPU sums the CPU of the PostgreSQL backends named app, by pid.
func backendsCPU(b *testing.B, db *store.DB, app string, into map[int]time.Duration) {
	if app == "" {
		return
	}
	rows, err := db.R.Query(`SELECT pid FROM pg_stat_activity WHERE application_name = $1`, app)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var pid int
		rows.Scan(&pid)
		if d, err := testenv.PIDCPU(pid); err == nil {
			into[pid] = d
		} else {
			b.Skipf("the server's CPU is not readable here: %v", err)
		}
	}
}

// steadyFor is how long the steady phase enters members.
const steadyFor = 30 * time.Second

func scaleRun(b *testing.B, engine string, n int, wait time.Duration, rate int) {
	b.StopTimer()
	ctx := context.Background()
	db, app := benchDB(b, engine)
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("mem_scale%07d", i)
	}
	steady := make([]string, rate*int(steadyFor/time.Second))
	for i := range steady {
		steady[i] = fmt.Sprintf("mem_steady%07d", i)
	}
	insertMembersBulk(b, db, append(ids, steady...))
	svc := NewService(db, Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	def := Definition{Name: "scale", Trigger: Filter{Event: "bench_entered"}, Steps: []Step{
		{ID: "pause", Wait: Duration(wait)},
		{ID: "text", SMS: "Hello {{.FirstName}}, your basket is waiting"},
		{ID: "tag", Tag: &TagChange{Add: []string{"reminded"}}},
		{ID: "buy", WaitFor: &WaitFor{Filter: Filter{Event: "purchase"}, Timeout: Duration(wait)}},
	}}
	if _, err := svc.Apply(ctx, def); err != nil {
		b.Fatal(err)
	}
	if _, err := svc.Launch(ctx, "scale"); err != nil {
		b.Fatal(err)
	}
	// Everyone's trigger is in the stream before the runner starts: they
	// enter at once.
	enter := func(ids []string) {
		for i := 0; i < len(ids); i += 1000 {
			evs := make([]event.Event, 0, 1000)
			for _, m := range ids[i:min(i+1000, len(ids))] {
				evs = append(evs, event.Event{EventID: "enter-" + m, Type: "bench_entered", Time: time.Now().UTC(), Channel: event.App, MemberID: m})
			}
			if err := db.Tx(ctx, func(tx *sql.Tx) error { return event.Record(ctx, tx, db.Dialect, evs...) }); err != nil {
				b.Error(err)
				return
			}
		}
	}
	enter(ids)

	before := map[int]time.Duration{}
	backendsCPU(b, db, app, before)
	cpu0, start := testenv.ProcessCPU(), time.Now()
	b.StartTimer()
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); svc.Run(runCtx, time.Second) }()
	ended := func(want int) {
		deadline := time.Now().Add(10*wait + time.Duration(n)*2*time.Millisecond)
		for {
			var ended int
			if err := db.R.QueryRow(`SELECT COUNT(*) FROM journey_enrolments WHERE state = 'ended'`).Scan(&ended); err != nil {
				b.Fatal(err)
			}
			if ended == want {
				return
			}
			if time.Now().After(deadline) {
				stop()
				<-done
				b.Fatalf("%d of %d ended by the deadline", ended, want)
			}
			time.Sleep(time.Second)
		}
	}
	ended(n)
	b.StopTimer()
	cpu, wall := testenv.ProcessCPU()-cpu0, time.Since(start)
	after := map[int]time.Duration{}
	backendsCPU(b, db, app, after)

	// The steady phase: rate members a second enter for steadyFor, the
	// load a programme sees day to day; their timers are the steady
	// state's lag.
	if len(steady) > 0 {
		tick := time.NewTicker(time.Second)
		for i := 0; i < len(steady); i += rate {
			enter(steady[i : i+rate])
			<-tick.C
		}
		tick.Stop()
		ended(n + len(steady))
	}
	stop()
	<-done
	var server time.Duration
	for pid, d := range after {
		server += d - before[pid] // a backend started since counts from 0
	}

	// Every member ran every step once: the run is only a measure if it
	// did the work.
	all := n + len(steady)
	checks := []struct {
		q    string
		want int
	}{
		{`SELECT COUNT(*) FROM journey_steps`, 4 * all},
		{`SELECT COUNT(*) FROM journey_steps WHERE kind = 'sms' AND outcome = 'queued'`, all},
		{`SELECT COUNT(*) FROM sms_outbox WHERE purpose = 'journey:scale'`, all},
		{`SELECT COUNT(*) FROM members WHERE CAST(tags AS TEXT) LIKE '%reminded%'`, all},
		{`SELECT COUNT(*) FROM journey_steps WHERE kind = 'wait_for' AND outcome = 'timeout'`, all},
		{`SELECT COUNT(*) FROM journey_enrolments WHERE exit_reason = 'completed'`, all},
	}
	for _, c := range checks {
		var got int
		if err := db.R.QueryRow(c.q).Scan(&got); err != nil {
			b.Fatal(err)
		}
		if got != c.want {
			b.Fatalf("%s: %d, want %d", c.q, got, c.want)
		}
	}
	steps := 4 * n // the burst's, which the CPU figures are for
	// The runner's work is the 4 logged steps and the start of each of the
	// two timers (a claim that logs nothing): 6 advances a member.
	for _, kind := range []string{"wait", "wait_for"} {
		p50, p99, mx := lags(b, db, kind, "mem_scale%")
		b.Logf("%s %s: burst of %d members, timer lag p50 %v p99 %v max %v", engine, kind, n, p50, p99, mx)
		b.ReportMetric(float64(p99)/1e6, kind+"-burst-lag-p99-ms")
		if len(steady) > 0 {
			p50, p99, mx := lags(b, db, kind, "mem_steady%")
			b.Logf("%s %s: steady %d members a second for %v, timer lag p50 %v p99 %v max %v", engine, kind, rate, steadyFor, p50, p99, mx)
			b.ReportMetric(float64(p99)/1e6, kind+"-steady-lag-p99-ms")
			b.ReportMetric(float64(mx)/1e6, kind+"-steady-lag-max-ms")
		}
	}
	b.Logf("%s: %d members, %d steps logged, wall %v, cpu %v (%.0f µs/step), server cpu %v (%.0f µs/step)", engine, n, steps,
		wall.Round(time.Millisecond), cpu, float64(cpu.Microseconds())/float64(steps), server, float64(server.Microseconds())/float64(steps))
	b.ReportMetric(float64(cpu.Microseconds())/float64(steps), "cpu-µs/step")
	b.ReportMetric(float64(server.Microseconds())/float64(steps), "server-cpu-µs/step")
}

// lags is the distribution of how late the steps of a kind ran after they
// were due.
func lags(b *testing.B, db *store.DB, kind, members string) (p50, p99, mx time.Duration) {
	rows, err := db.R.Query(`SELECT l.at, l.due_at FROM journey_steps l JOIN journey_enrolments e ON e.id = l.enrolment_id
		WHERE l.kind = $1 AND e.member_id LIKE $2`, kind, members)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	var ls []time.Duration
	for rows.Next() {
		var at, due time.Time
		if err := rows.Scan(&at, &due); err != nil {
			b.Fatal(err)
		}
		ls = append(ls, at.Sub(due))
	}
	if len(ls) == 0 {
		b.Fatalf("no %s steps", kind)
	}
	slices.Sort(ls)
	return ls[len(ls)/2], ls[len(ls)*99/100], ls[len(ls)-1]
}

// insertMembersBulk writes bare consenting members, 500 a statement.
func insertMembersBulk(b *testing.B, db *store.DB, ids []string) {
	err := db.Tx(context.Background(), func(tx *sql.Tx) error {
		for i := 0; i < len(ids); i += 500 {
			var q strings.Builder
			q.WriteString(`INSERT INTO members (id, code, phone, channel, status, first_name, enrolled_at, updated_at) VALUES `)
			var args []any
			for j, m := range ids[i:min(i+500, len(ids))] {
				if j > 0 {
					q.WriteString(", ")
				}
				q.WriteString("(" + db.Dialect.Placeholders(len(args)+1, 8) + ")")
				k := i + j
				args = append(args, m, fmt.Sprintf("%08d", 30000000+k), fmt.Sprintf("+4477%08d", k), "api", "active", "Ann", t0, t0)
			}
			if _, err := tx.Exec(q.String(), args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}
