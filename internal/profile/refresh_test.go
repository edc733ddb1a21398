package profile_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/profile"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// sold is one basket as the test sent it, for the recomputation.
type sold struct {
	member *member.Member
	store  string
	at     time.Time
	lines  []checkout.Item
	back   int // units of line 1 returned
	voided bool
}

func (b sold) net(i int) int64 {
	l := b.lines[i]
	q := l.Quantity
	if i == 0 {
		q -= b.back
	}
	return l.UnitPrice * int64(q)
}

// TestRefresh_EqualsAnIndependentRecomputation generates a programme's
// history through the real checkout (commits over 400 days, partial returns,
// voids, members who never buy, many ties in frequency) and checks every
// stored profile against the same figures recomputed in Go from what was
// sent: recency, frequency, monetary value, scores (1 + floor(5 × L / n)),
// segments, preferred store, visit days, median interval, overdue and
// affinities.
func TestRefresh_EqualsAnIndependentRecomputation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		opt := profile.Options{Window: 365 * 24 * time.Hour, HalfLife: 60 * 24 * time.Hour, TopN: 3, OverdueFactor: 1.5}
		w := newWorld(t, db, opt)
		rng := rand.New(rand.NewPCG(14, 28))
		var ms []*member.Member
		for i := range 40 {
			ms = append(ms, w.enrol(t, 100+i))
		}
		skus := []string{"BREAD", "CROIS", "COFFEE", "SOAP"}
		start := t0
		var bs []sold
		for i, m := range ms {
			if i%8 == 7 {
				continue // never buys
			}
			for range 1 + rng.IntN(5) {
				at := start.Add(time.Duration(rng.IntN(400*24)) * time.Hour)
				b := sold{member: m, store: []string{"S1", "S2"}[rng.IntN(2)], at: at}
				for l := range 1 + rng.IntN(3) {
					b.lines = append(b.lines, item(l+1, skus[rng.IntN(len(skus))], 1+rng.IntN(3), int64(50*(1+rng.IntN(10)))))
				}
				switch rng.IntN(6) {
				case 0:
					b.back = 1
				case 1:
					b.voided = true
				}
				bs = append(bs, b)
			}
		}
		sort.SliceStable(bs, func(i, j int) bool { return bs[i].at.Before(bs[j].at) })
		for i, b := range bs {
			w.clock.Set(b.at)
			txn := fmt.Sprintf("G%d", i)
			w.commit(t, b.store, b.member, txn, b.lines...)
			if b.back > 0 {
				if _, err := w.checkout.Return(ctx, &checkout.ReturnRequest{Store: b.store, TransactionID: txn, ReturnID: "R" + txn,
					Items: []checkout.ReturnItem{{Line: 1, Quantity: b.back}}}); err != nil {
					t.Fatal(err)
				}
			}
			if b.voided {
				if _, err := w.checkout.Void(ctx, &checkout.VoidRequest{Store: b.store, TransactionID: txn}); err != nil {
					t.Fatal(err)
				}
			}
		}
		now := start.Add(410 * 24 * time.Hour)
		w.clock.Set(now)
		res := w.refresh(t)

		want := recompute(ms, bs, opt, now)
		if res.Scored != int64(len(want.scored)) {
			t.Errorf("refresh scored %d members, want %d", res.Scored, len(want.scored))
		}
		for _, m := range ms {
			got, exp := w.get(t, m), want.profiles[m.ID]
			same := func(what string, g, e any) {
				if fmt.Sprint(g) != fmt.Sprint(e) {
					t.Errorf("member %s: %s = %v, want %v", m.ID, what, g, e)
				}
			}
			same("frequency", got.Frequency, exp.Frequency)
			same("monetary", got.Monetary, exp.Monetary)
			same("last purchase", tp(got.LastPurchase), tp(exp.LastPurchase))
			same("scores", [3]int{got.R, got.F, got.M}, [3]int{exp.R, exp.F, exp.M})
			same("segment", got.Segment, exp.Segment)
			same("preferred store", got.PreferredStore, exp.PreferredStore)
			same("average basket", got.AverageBasket, exp.AverageBasket)
			same("visit days", got.VisitDays, exp.VisitDays)
			same("usual interval", got.UsualInterval, exp.UsualInterval)
			same("overdue", got.Overdue, exp.Overdue)
			if len(got.Categories) != len(exp.Categories) {
				t.Errorf("member %s: categories %v, want %v", m.ID, got.Categories, exp.Categories)
				continue
			}
			for i := range got.Categories {
				g, e := got.Categories[i], exp.Categories[i]
				if g.Key != e.Key || math.Abs(g.Share-e.Share) > 1e-9 {
					t.Errorf("member %s: categories %v, want %v", m.ID, got.Categories, exp.Categories)
					break
				}
			}
		}
	})
}

func tp(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return t.UTC().Format(time.RFC3339Nano)
}

type recomputed struct {
	profiles map[string]profile.Profile
	scored   []string
}

// recompute is the documented definitions, written again in Go over what the
// test sent rather than over the database.
func recompute(ms []*member.Member, bs []sold, opt profile.Options, now time.Time) recomputed {
	out := recomputed{profiles: map[string]profile.Profile{}}
	from := now.Add(-opt.Window)
	for _, m := range ms {
		p := profile.Profile{MemberID: m.ID}
		stores := map[string][2]int64{} // baskets, spend
		days := map[int64]bool{}
		cats := map[string]float64{}
		var total float64
		for _, b := range bs {
			if b.member.ID != m.ID || b.voided {
				continue
			}
			if p.LastPurchase == nil || b.at.After(*p.LastPurchase) {
				at := b.at
				p.LastPurchase = &at
			}
			if b.at.Before(from) || b.at.After(now) {
				continue
			}
			p.Frequency++
			var spend int64
			for i, l := range b.lines {
				n := b.net(i)
				spend += n
				wgt := float64(n) * math.Pow(0.5, float64(now.Unix()-b.at.Unix())/opt.HalfLife.Seconds())
				total += wgt
				for _, c := range l.Categories {
					cats[c] += wgt
				}
			}
			p.Monetary += spend
			s := stores[b.store]
			stores[b.store] = [2]int64{s[0] + 1, s[1] + spend}
			days[b.at.Unix()/86400] = true
		}
		if p.Frequency > 0 {
			p.AverageBasket = p.Monetary / p.Frequency
		}
		best := ""
		for id, s := range stores {
			b := stores[best]
			if best == "" || s[0] > b[0] || (s[0] == b[0] && (s[1] > b[1] || (s[1] == b[1] && id < best))) {
				best = id
			}
		}
		p.PreferredStore = best
		p.VisitDays = int64(len(days))
		var ds, gaps []int64
		for d := range days {
			ds = append(ds, d)
		}
		slices.Sort(ds)
		for i := 1; i < len(ds); i++ {
			gaps = append(gaps, ds[i]-ds[i-1])
		}
		slices.Sort(gaps)
		if n := len(gaps); n > 0 {
			secs := int64(float64(gaps[(n-1)/2]+gaps[n/2]) / 2 * 86400)
			p.UsualInterval = float64(secs) / 86400
			p.Overdue = p.LastPurchase.Unix()+secs*int64(opt.OverdueFactor*1000)/1000 <= now.Unix()
		}
		for c, v := range cats {
			if total > 0 && v > 0 {
				p.Categories = append(p.Categories, profile.Affinity{Key: c, Share: v / total})
			}
		}
		slices.SortFunc(p.Categories, func(a, b profile.Affinity) int {
			if a.Share != b.Share {
				if a.Share > b.Share {
					return -1
				}
				return 1
			}
			if a.Key < b.Key {
				return -1
			}
			return 1
		})
		p.Categories = p.Categories[:min(len(p.Categories), opt.TopN)]
		// Get lists them by name within a kind when shares tie; here by share.
		out.profiles[m.ID] = p
		if p.LastPurchase != nil {
			out.scored = append(out.scored, m.ID)
		}
	}
	// Scores: 1 + floor(5 × L / n), L the scored members strictly below.
	score := func(val func(profile.Profile) int64) map[string]int {
		s := map[string]int{}
		for _, id := range out.scored {
			v, below := val(out.profiles[id]), 0
			for _, o := range out.scored {
				if val(out.profiles[o]) < v {
					below++
				}
			}
			s[id] = 1 + 5*below/len(out.scored)
		}
		return s
	}
	r := score(func(p profile.Profile) int64 { return p.LastPurchase.Unix() })
	f := score(func(p profile.Profile) int64 { return p.Frequency })
	mo := score(func(p profile.Profile) int64 { return p.Monetary })
	for _, id := range out.scored {
		p := out.profiles[id]
		p.R, p.F, p.M = r[id], f[id], mo[id]
		p.Segment = profile.SegmentOf(p.R, p.F, p.M)
		out.profiles[id] = p
	}
	return out
}
