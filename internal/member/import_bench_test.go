package member_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/perk-platform/perk/internal/loadgen"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// BenchmarkImport imports a generated 20,000-row file (2% bad rows) into a
// fresh database per iteration and reports rows/s, with the welcomes of the
// members who consented (the default) and as a silent migration. The full
// 1M-row figures come from "perk members import" (docs/benchmarks.md).
func BenchmarkImport(b *testing.B) {
	var file bytes.Buffer
	if _, err := loadgen.GenerateMembersCSV(&file, loadgen.MembersCSVOptions{Rows: 20_000, BadFraction: 0.02, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	for _, engine := range []string{"sqlite", "postgres"} {
		for _, welcome := range []bool{true, false} {
			b.Run(fmt.Sprintf("%s/welcome=%v", engine, welcome), func(b *testing.B) {
				rows := 0
				for b.Loop() {
					b.StopTimer()
					db := storetest.Engine(b, engine)
					s := member.NewService(db, member.Options{Region: "GB"})
					b.StartTimer()
					st, err := s.Import(context.Background(), bytes.NewReader(file.Bytes()),
						member.ImportOptions{BatchSize: 1000, NoWelcome: !welcome})
					if err != nil {
						b.Fatal(err)
					}
					rows += st.Rows
				}
				b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
			})
		}
	}
}
