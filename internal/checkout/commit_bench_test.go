package checkout_test

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/checkout/checkouttest"
	"github.com/perk-platform/perk/internal/ledger"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/testenv"
)

// BenchmarkCommit_Tills is the till's commit as perk bench checkout
// --scenario commit drives it, in process: 16 tills committing at once, ten
// campaigns of the kinds docs/benchmarks.md lists, 10-line baskets, 10%
// anonymous. Besides commits a second it reports CPU per commit (this
// process, and on PostgreSQL its backends), the figure that the shared
// machine does not bend, and on PostgreSQL the statements each commit sends
// (counted on the wire by a proxy between the pool and the server).
func BenchmarkCommit_Tills(b *testing.B) {
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			db, backends, stmts := tillBenchDB(b, name)
			till, codes := tillBenchWorld(b, db)
			const tills = 16
			var seq atomic.Int64
			var failed atomic.Value
			var wg sync.WaitGroup
			b.ResetTimer()
			proc0, db0, st0, wall0 := time.Duration(cpuTime()), backends(), stmts.Load(), time.Now()
			for t := range tills {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := mrand.New(mrand.NewPCG(uint64(t), 7))
					for {
						n := seq.Add(1)
						if n > int64(b.N) {
							return
						}
						if _, err := till.Commit(context.Background(), tillBasket(r, codes, n, t)); err != nil {
							failed.Store(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			wall, proc, server, sent := time.Since(wall0), time.Duration(cpuTime())-proc0, backends()-db0, stmts.Load()-st0
			b.StopTimer()
			if err, _ := failed.Load().(error); err != nil {
				b.Fatal(err)
			}
			n := float64(b.N)
			b.ReportMetric(n/wall.Seconds(), "commits/s")
			b.ReportMetric(float64(proc.Microseconds())/n, "proc-cpu-µs/commit")
			if name == "postgres" {
				b.ReportMetric(float64(server.Microseconds())/n, "db-cpu-µs/commit")
				b.ReportMetric(float64(sent)/n, "stmts/commit")
			}
			b.ReportMetric(float64((proc+server).Microseconds())/n, "cpu-µs/commit")
		})
	}
}

// tillBasket is a 10-line basket from a 200-SKU shop in 12 categories, of a
// member from codes (one in ten anonymous).
func tillBasket(r *mrand.Rand, codes []string, n int64, till int) *checkout.Request {
	key := ""
	if r.IntN(10) > 0 {
		key = codes[r.IntN(len(codes))]
	}
	req := basket(key, fmt.Sprintf("B-%d", n))
	req.Terminal = fmt.Sprintf("T%d", till)
	for i := range 10 {
		s := r.IntN(200)
		req.Items = append(req.Items, item(i+1, fmt.Sprintf("S%03d", s), 1+r.IntN(3), int64(100+s*15),
			fmt.Sprintf("c%02d", s%12)))
	}
	return req
}

// tillBenchWorld launches the ten campaigns and enrols 200 members.
func tillBenchWorld(b *testing.B, db *store.DB) (*checkout.Service, []string) {
	b.Helper()
	ctx := context.Background()
	clk := testenv.NewClock(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ms := member.NewService(db, member.Options{Region: "GB", PublicURL: "https://perk.test", Programme: "Bench", Now: clk.Now, Log: log})
	camps := campaign.NewService(db, campaign.Options{Zone: time.UTC, PublicURL: "https://perk.test", Programme: "Bench", Now: clk.Now, Log: log})
	l := ledger.New(db, defaultPolicy, clk.Now)
	// PERK_BENCH_NO_PROFILES=1 turns the profile hook off, to measure what
	// it adds to a commit (docs/benchmarks.md, refined profiles).
	till := checkout.NewService(db, ms, camps, l, checkout.Options{Currency: "GBP", BaseEarn: 1, Now: clk.Now, Log: log,
		NoProfiles: os.Getenv("PERK_BENCH_NO_PROFILES") == "1"})
	if _, err := db.W.Exec(`INSERT INTO stores (id, name, timezone, created_at) VALUES ('S1', 'High Street', 'Europe/London', $1)`, clk.Now()); err != nil {
		b.Fatal(err)
	}
	for _, spec := range checkouttest.TenCampaigns("2026-11-01T00:00:00Z", "2027-01-01T00:00:00Z") {
		c, err := camps.Create(ctx, spec)
		if err != nil {
			b.Fatalf("create %s: %v", spec.Name, err)
		}
		if _, err := camps.Launch(ctx, c.ID); err != nil {
			b.Fatalf("launch %s: %v", spec.Name, err)
		}
	}
	var codes []string
	for i := range 200 {
		e, err := ms.Enrol(ctx, member.EnrolRequest{Profile: member.Profile{Phone: phoneN(i)}, Channel: member.ChannelAPI, Consent: true})
		if err != nil {
			b.Fatal(err)
		}
		codes = append(codes, string(e.Member.Code))
	}
	return till, codes
}

// tillBenchDB opens a migrated database of the engine with, on PostgreSQL,
// a function giving the CPU its backends used so far (read from /proc, so
// the server must run on this host) and the count of statements sent.
func tillBenchDB(b *testing.B, engine string) (*store.DB, func() time.Duration, *atomic.Int64) {
	b.Helper()
	var sent atomic.Int64
	if engine != "postgres" {
		return storetest.Engine(b, engine), func() time.Duration { return 0 }, &sent
	}
	base := testenv.Env(b, storetest.PostgresEnv, "PostgreSQL")
	u, err := url.Parse(storetest.DSN(b, base))
	if err != nil {
		b.Fatal(err)
	}
	var r [4]byte
	rand.Read(r[:])
	app := "perk-bench-" + hex.EncodeToString(r[:])
	q := u.Query()
	q.Set("application_name", app)
	u.RawQuery = q.Encode()
	u.Host = countingProxy(b, u.Host, &sent)
	ctx := context.Background()
	db, err := store.Open(ctx, u.String())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	seen := map[int]time.Duration{} // backend pid -> CPU when last read
	return db, func() time.Duration {
		rows, err := db.R.Query(`SELECT pid FROM pg_stat_activity WHERE application_name = $1`, app)
		if err != nil {
			b.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var pid int
			if err := rows.Scan(&pid); err != nil {
				b.Fatal(err)
			}
			if t, err := testenv.PIDCPU(pid); err == nil {
				seen[pid] = t
			}
		}
		var total time.Duration
		for _, t := range seen {
			total += t
		}
		return total
	}, &sent
}

// countingProxy forwards connections to the PostgreSQL server at addr and
// counts the statements clients run: Execute messages of the extended
// protocol and simple Query messages. It returns its own address.
func countingProxy(b *testing.B, addr string, sent *atomic.Int64) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", addr)
			if err != nil {
				c.Close()
				continue
			}
			go func() { io.Copy(c, s); c.Close() }()
			go func() { countMessages(c, s, sent); s.Close() }()
		}
	}()
	return ln.Addr().String()
}

// countMessages copies a client's stream to the server message by message.
func countMessages(from io.Reader, to io.Writer, sent *atomic.Int64) {
	var head [5]byte
	// Startup messages (and SSL or GSS requests) have no type byte.
	for {
		if _, err := io.ReadFull(from, head[:4]); err != nil {
			return
		}
		n := binary.BigEndian.Uint32(head[:4])
		body := make([]byte, n-4)
		if _, err := io.ReadFull(from, body); err != nil {
			return
		}
		if _, err := to.Write(append(head[:4:4], body...)); err != nil {
			return
		}
		if code := binary.BigEndian.Uint32(body[:4]); code != 80877103 && code != 80877104 {
			break
		}
	}
	for {
		if _, err := io.ReadFull(from, head[:]); err != nil {
			return
		}
		if head[0] == 'E' || head[0] == 'Q' {
			sent.Add(1)
		}
		n := binary.BigEndian.Uint32(head[1:])
		body := make([]byte, n-4)
		if _, err := io.ReadFull(from, body); err != nil {
			return
		}
		if _, err := to.Write(append(head[:], body...)); err != nil {
			return
		}
	}
}
