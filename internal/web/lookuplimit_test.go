package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/testenv"
	"github.com/perk-platform/perk/internal/web"
)

// withKey sends a JSON request with the given API key.
func (e *env) withKey(secret, method, path string, body any) (int, []byte, http.Header) {
	e.t.Helper()
	j, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, e.url+path, bytes.NewReader(j))
	req.Header.Set("Authorization", "Bearer "+secret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	web.CheckAgainstOpenAPI(e.t, req, res.StatusCode, res.Header, out)
	return res.StatusCode, out, res.Header
}

// basketFor is a till's basket for the member key code; "" leaves the
// member out (an anonymous basket).
func basketFor(code string) map[string]any {
	b := map[string]any{"currency": "GBP", "items": []map[string]any{{"line": 1, "sku": "BUN", "quantity": 1, "unit_price": 150}}}
	if code != "" {
		b["member"] = code
	}
	return b
}

// A pos key may resolve members only so fast, and misses (codes that are
// nobody's) cost ten times a hit, so trying codes is slow while a till never
// notices. The limit answers 429 with Retry-After, logs one event per trip
// and counts it in a metric; it fills up again with time.
func TestLookupLimit_TillKeysAndStoresCannotEnumerateMembers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		clock := testenv.NewClock(time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC))
		e := newEnv(t, db, func(o *web.Options) {
			o.LookupLimit = web.LookupLimit{Rate: 1, Burst: 30}
			o.Now = clock.Now
		})
		enr, err := e.members.Enrol(t.Context(), member.EnrolRequest{Profile: member.Profile{Phone: "07400 123456"},
			Channel: member.ChannelAPI, Consent: true})
		if err != nil {
			t.Fatal(err)
		}
		hit := string(enr.Member.Code)
		pos := e.keys[auth.RolePOS]
		status := func(secret, code string) (int, http.Header) {
			st, out, hdr := e.withKey(secret, "POST", "/v1/checkout/evaluate", basketFor(code))
			if st != 200 && st != 404 && st != 422 && st != 429 {
				t.Fatalf("evaluate %s = %d %s", code, st, out)
			}
			if st == 429 {
				if c, _ := errorOf(t, out); c != "lookups_limited" {
					t.Fatalf("429 with %s", out)
				}
			}
			return st, hdr
		}

		// A till's day: thirty resolutions at once are served.
		for i := 0; i < 30; i++ {
			if st, _ := status(pos, hit); st != 200 {
				t.Fatalf("hit %d = %d, want 200", i+1, st)
			}
		}
		st, hdr := status(pos, hit)
		if st != 429 || hdr.Get("Retry-After") != "1" {
			t.Fatalf("31st look-up = %d Retry-After %q, want 429 after 1 s", st, hdr.Get("Retry-After"))
		}
		// Anonymous baskets resolve nobody and are never limited.
		if st, _ := status(pos, ""); st != 200 {
			t.Fatalf("anonymous basket while limited = %d", st)
		}
		clock.Advance(5 * time.Second)
		for i := 0; i < 5; i++ {
			if st, _ := status(pos, hit); st != 200 {
				t.Fatalf("after 5 s, hit %d = %d", i+1, st)
			}
		}

		// An enumerator: after a full bucket, each miss costs ten seconds.
		clock.Advance(time.Minute)
		misses, guess := 0, 1000000
		miss := func() (int, string) {
			guess++
			st, hdr := status(pos, fmt.Sprintf("%d0", guess))
			return st, hdr.Get("Retry-After")
		}
		for {
			st, _ := miss()
			if st == 429 {
				break
			}
			misses++
		}
		if misses != 3 {
			t.Errorf("misses served from a full bucket of 30 = %d, want 3", misses)
		}
		// From then on, one guess each ten seconds.
		clock.Advance(time.Second)
		if st, _ := miss(); st == 429 {
			t.Fatal("no guess after a second")
		}
		if st, ra := miss(); st != 429 || ra != "10" {
			t.Errorf("after a miss in debt: %d Retry-After %q, want 429 after 10 s", st, ra)
		}

		// Other keys of the same store share a store bucket four times as
		// large: new keys cannot be used to go on.
		clock.Advance(time.Hour)
		keys := auth.NewService(db, nil)
		served := 0
		for k := 0; k < 6; k++ {
			secret, _, err := keys.Create(t.Context(), auth.RolePOS, "S001", fmt.Sprintf("till %d", k))
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 30; i++ {
				if st, _ := status(secret, hit); st == 200 {
					served++
				}
			}
		}
		if served != 120 {
			t.Errorf("look-ups served to six keys of one store = %d, want the store's 120", served)
		}
		// Another store's till is not held back by this one.
		other, _, err := keys.Create(t.Context(), auth.RolePOS, "S002", "S002 till")
		if err != nil {
			t.Fatal(err)
		}
		if st, _ := status(other, hit); st != 200 {
			t.Errorf("another store's till = %d, want 200", st)
		}

		_, metrics, _ := e.do("GET", "/metrics", auth.RoleAdmin, nil)
		for _, want := range []string{`perk_member_lookups_limited_total{scope="key"} 3`, `perk_member_lookups_limited_total{scope="store"} 1`} {
			if !strings.Contains(string(metrics), want) {
				t.Errorf("metrics lack %s", want)
			}
		}
		if n := strings.Count(e.logs.String(), "member look-ups limited"); n != 4 {
			t.Errorf("%d limit events logged, want one per trip (4):\n%s", n, e.logs.String())
		}
	})
}

// Enrolment by a till answers with the member when the number is one: it
// counts against the same limit.
func TestLookupLimit_TillEnrolmentsCount(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t), func(o *web.Options) { o.LookupLimit = web.LookupLimit{Rate: 1, Burst: 3} })
	for i := 0; i < 4; i++ {
		st, out, _ := e.do("POST", "/v1/members", auth.RolePOS, map[string]any{"phone": fmt.Sprintf("07400 12345%d", i)})
		want := http.StatusCreated
		if i == 3 {
			want = http.StatusTooManyRequests
		}
		if st != want {
			t.Fatalf("till enrolment %d = %d %s, want %d", i+1, st, out, want)
		}
	}
	// Operators' keys are not limited: they may read members anyway.
	for i := 0; i < 5; i++ {
		if st, out, _ := e.do("POST", "/v1/members", auth.RoleAdmin, map[string]any{"phone": "07400 123450"}); st != 200 {
			t.Fatalf("admin enrolment = %d %s", st, out)
		}
	}
}

// Requests in flight together each take their token before they run, so a
// burst of parallel look-ups cannot pass on the same last tokens.
func TestLookupLimit_ParallelLookupsServeExactlyTheBurst(t *testing.T) {
	clock := testenv.NewClock(time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC))
	e := newEnv(t, storetest.SQLite(t), func(o *web.Options) {
		o.LookupLimit = web.LookupLimit{Rate: 1, Burst: 30}
		o.Now = clock.Now
	})
	enr, err := e.members.Enrol(t.Context(), member.EnrolRequest{Profile: member.Profile{Phone: "07400 123456"},
		Channel: member.ChannelAPI, Consent: true})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	statuses := make(chan int, 64)
	for i := 0; i < 64; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, _, _ := e.withKey(e.keys[auth.RolePOS], "POST", "/v1/checkout/evaluate", basketFor(string(enr.Member.Code)))
			statuses <- st
		}()
	}
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for st := range statuses {
		count[st]++
	}
	if count[200] != 30 || count[429] != 34 {
		t.Errorf("64 parallel look-ups with a burst of 30: %v, want 30 served and 34 refused", count)
	}
}
