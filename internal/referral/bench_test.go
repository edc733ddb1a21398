package referral_test

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// cpuSeconds is the process's user and system CPU time so far.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// BenchmarkCommit_Referrals is what the referral hook costs a till's
// commit: members' commits with referrals off, and on (qualifying by
// purchase) for members without a pending referral, the common case. One
// member in two was referred and qualifies at their first commit, so the
// reward writes are in the "on" figure too. Reports CPU per commit (user +
// sys of the whole process, the database's included on SQLite).
func BenchmarkCommit_Referrals(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		for _, on := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/referrals=%v", engine, on), func(b *testing.B) {
				db := storetest.Engine(b, engine)
				w := newWorld(b, db)
				ctx := context.Background()
				st := bothPoints()
				st.Enabled = on
				if _, err := w.refs.Save(ctx, st); err != nil {
					b.Fatal(err)
				}
				ann, err := w.members.Enrol(ctx, member.EnrolRequest{Profile: member.Profile{Phone: phoneN(1)}, Channel: member.ChannelAPI, Consent: true})
				if err != nil {
					b.Fatal(err)
				}
				code, err := w.refs.Code(ctx, ann.Member.ID)
				if err != nil {
					b.Fatal(err)
				}
				const members = 200
				ids := make([]string, members)
				for i := range ids {
					ref := ""
					if i%2 == 0 {
						ref = code
					}
					e, err := w.members.Enrol(ctx, member.EnrolRequest{Profile: member.Profile{Phone: phoneN(100 + i)}, Channel: member.ChannelAPI,
						Consent: true, Referral: ref})
					if err != nil {
						b.Fatal(err)
					}
					ids[i] = e.Member.ID
				}
				cpu := cpuSeconds()
				b.ResetTimer()
				for i := 0; b.Loop(); i++ {
					req := &checkout.Request{Store: "S1", Terminal: "T1", Member: checkout.Key(ids[i%members]), Currency: "GBP",
						TransactionID: fmt.Sprintf("B-%d", i), Items: []checkout.Item{{Line: 1, SKU: "COAT", Quantity: 1, UnitPrice: 2500}}}
					if _, err := w.checkout.Commit(ctx, req); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric((cpuSeconds()-cpu)*1e6/float64(b.N), "cpu-µs/op")
			})
		}
	}
}
