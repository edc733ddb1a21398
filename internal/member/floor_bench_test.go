package member_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/loadgen"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// TestImport_AgainstTheBulkLoadFloor measures, in one run and on one
// generated file, the bulk-load floor of each database and the member import,
// and logs rows/s, CPU and the ratio (docs/benchmarks.md). The floor loads
// the rows the import's own cleaning produced (cleaning not timed) into
// members_floor, a table with the members table's columns, keys and indexes:
// on PostgreSQL with one COPY, on SQLite (no sqlite3 CLI here for .import)
// with one prepared single-row INSERT per row in one transaction, which is
// what .import does. The import is timed whole, cleaning included, as a
// silent migration (no welcomes: the floor has none to write).
//
// It is a measurement, not a check: it runs only when PERK_BENCH_IMPORT_ROWS
// is set (e.g. 1000000), with PERK_BENCH_IMPORT_BATCH rows a batch (5000,
// the CLI's default, if unset) and PERK_BENCH_IMPORT_DBS ("sqlite,postgres").
func TestImport_AgainstTheBulkLoadFloor(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("PERK_BENCH_IMPORT_ROWS"))
	if n <= 0 {
		t.Skip("set PERK_BENCH_IMPORT_ROWS to measure")
	}
	batch, _ := strconv.Atoi(os.Getenv("PERK_BENCH_IMPORT_BATCH"))
	if batch <= 0 {
		batch = 5000
	}
	engines := strings.Split(os.Getenv("PERK_BENCH_IMPORT_DBS"), ",")
	if engines[0] == "" {
		engines = []string{"sqlite", "postgres"}
	}
	var file bytes.Buffer
	if _, err := loadgen.GenerateMembersCSV(&file, loadgen.MembersCSVOptions{Rows: n, BadFraction: 0.02, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			// The floor.
			db, app := benchDB(t, engine)
			s := member.NewService(db, member.Options{Region: "GB"})
			ms := member.CleanedMembers(t, s, file.Bytes())
			floor := measure(t, db, app, func() error { return member.LoadFloor(ctx, db, ms) })
			t.Logf("%s floor: %d rows in %v (%.0f rows/s), CPU %v process + %v server", engine, len(ms),
				floor.wall.Round(time.Millisecond), float64(len(ms))/floor.wall.Seconds(), floor.cpu.Round(time.Millisecond),
				floor.server.Round(time.Millisecond))
			db.Close()

			// The import, into a database of its own.
			db, app = benchDB(t, engine)
			s = member.NewService(db, member.Options{Region: "GB"})
			var st member.ImportStats
			imp := measure(t, db, app, func() error {
				var err error
				st, err = s.Import(ctx, bytes.NewReader(file.Bytes()), member.ImportOptions{BatchSize: batch, NoWelcome: true})
				return err
			})
			if st.Created != len(ms) {
				t.Fatalf("import created %d members, the floor loaded %d", st.Created, len(ms))
			}
			t.Logf("%s import (batch %d): %d rows (%d created) in %v (%.0f rows/s), CPU %v process + %v server",
				engine, batch, st.Rows, st.Created, imp.wall.Round(time.Millisecond), float64(st.Rows)/imp.wall.Seconds(),
				imp.cpu.Round(time.Millisecond), imp.server.Round(time.Millisecond))
			t.Logf("%s ratio import/floor: wall %.2fx, CPU (process+server) %.2fx", engine,
				imp.wall.Seconds()/floor.wall.Seconds(), (imp.cpu+imp.server).Seconds()/(floor.cpu+floor.server).Seconds())
		})
	}
}

// benchDB opens a new migrated database; on PostgreSQL its connections carry
// an application_name of their own, so the server's CPU for them can be read.
func benchDB(t *testing.T, engine string) (*store.DB, string) {
	if engine != "postgres" {
		return storetest.SQLite(t), ""
	}
	base := os.Getenv(storetest.PostgresEnv)
	if base == "" {
		t.Skip("PERK_TEST_POSTGRES unset")
	}
	app := fmt.Sprintf("perkfloor%d", time.Now().UnixNano())
	dsn := storetest.DSN(t, base)
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	db, err := store.Open(context.Background(), dsn+sep+"application_name="+app)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db, app
}

type cost struct{ wall, cpu, server time.Duration }

// measure runs fn and returns its wall time, this process's CPU and the CPU of
// the PostgreSQL backends named app (0 on SQLite).
func measure(t *testing.T, db *store.DB, app string, fn func() error) cost {
	before := backendCPU(t, db, app)
	cpu0, start := cpuTime(), time.Now()
	if err := fn(); err != nil {
		t.Fatal(err)
	}
	c := cost{wall: time.Since(start), cpu: cpuTime() - cpu0}
	for pid, d := range backendCPU(t, db, app) {
		c.server += d - before[pid]
	}
	return c
}

// backendCPU reads the CPU of each backend whose application_name is app.
func backendCPU(t *testing.T, db *store.DB, app string) map[int]time.Duration {
	out := map[int]time.Duration{}
	if app == "" {
		return out
	}
	rows, err := db.R.Query(`SELECT pid FROM pg_stat_activity WHERE application_name = $1`, app)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var pid int
		if err := rows.Scan(&pid); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			continue // the server runs elsewhere: no server CPU
		}
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		out[pid] = time.Duration(ut+st) * 10 * time.Millisecond
	}
	return out
}
