package member_test

import (
	"bytes"
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/loadgen"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// BenchmarkCRMSync syncs a generated 20,000-row CRM file (every row with a
// CRM id and its segments as tags) into a fresh database (first: every
// member new, welcomes queued), then the same file again (again: every
// member marked, none changed), and reports rows/s and this process's CPU
// per row. The 1M-row figures come from "perk crm sync" on a file from
// "perk bench gen-members --tags" (docs/benchmarks.md).
func BenchmarkCRMSync(b *testing.B) {
	var file bytes.Buffer
	if _, err := loadgen.GenerateMembersCSV(&file, loadgen.MembersCSVOptions{Rows: 20_000, Seed: 1, Tags: true}); err != nil {
		b.Fatal(err)
	}
	sync := func(b *testing.B, s *member.Service) member.ImportStats {
		st, err := s.Import(context.Background(), bytes.NewReader(file.Bytes()),
			member.ImportOptions{BatchSize: 5000, Sync: member.NewSyncRun(time.Now()), Full: true})
		if err != nil {
			b.Fatal(err)
		}
		if st.Rejected != 0 || st.LeftSubset != 0 {
			b.Fatalf("sync: %+v", st)
		}
		return st
	}
	for _, engine := range []string{"sqlite", "postgres"} {
		for _, again := range []bool{false, true} {
			name := engine + "/first"
			if again {
				name = engine + "/again"
			}
			b.Run(name, func(b *testing.B) {
				rows := 0
				var cpu time.Duration
				for b.Loop() {
					b.StopTimer()
					db := storetest.Engine(b, engine)
					s := member.NewService(db, member.Options{Region: "GB"})
					if again {
						sync(b, s)
					}
					c0 := cpuTime()
					b.StartTimer()
					st := sync(b, s)
					b.StopTimer()
					cpu += cpuTime() - c0
					if again && st.Unchanged != st.Rows || !again && st.Created != st.Rows {
						b.Fatalf("sync: %+v", st)
					}
					rows += st.Rows
					b.StartTimer()
				}
				b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
				b.ReportMetric(float64(cpu.Microseconds())/float64(rows), "cpu-µs/row")
			})
		}
	}
}

// cpuTime is this process's user+sys CPU time so far (on PostgreSQL the
// server's share is not in it).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
