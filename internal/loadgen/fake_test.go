package loadgen

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
)

// fakeAPI is a tiny stand-in for Perk's two member endpoints. It checks what
// Run sends (bearer key, body, phone shape, code check digit) so the tests
// fail if the load generator sends anything the real API would refuse.
type fakeAPI struct {
	key          string
	posts, gets  atomic.Int64
	onRequest    func(n int64) // optional: called with the running request count
	mu           sync.Mutex
	phones       map[string]string // phone -> code
	codes        map[string]bool
	repeatPhones int // enrolments of a phone already seen
}

var e164UKMobile = regexp.MustCompile(`^\+447[4589][0-9]{8}$`)

// newFake starts the fake. Tests adjust it in setup, before the server runs:
// the race detector cannot see that a request sent over a socket comes after
// a write made earlier, so later writes would be reported as races.
func newFake(t *testing.T, key string, setup func(*fakeAPI)) (*fakeAPI, *httptest.Server) {
	f := &fakeAPI{key: key, phones: map[string]string{}, codes: map[string]bool{}}
	if setup != nil {
		setup(f)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/members", f.auth(f.enrol))
	mux.HandleFunc("GET /v1/members/{code}", f.auth(f.get))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeAPI) auth(h http.HandlerFunc) http.HandlerFunc {
	var n atomic.Int64
	return func(w http.ResponseWriter, r *http.Request) {
		if f.onRequest != nil {
			f.onRequest(n.Add(1))
		}
		if r.Header.Get("Authorization") != "Bearer "+f.key {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"title":"Unauthorized","status":401,"detail":"API key not recognised"}`)
			return
		}
		h(w, r)
	}
}

func (f *fakeAPI) enrol(w http.ResponseWriter, r *http.Request) {
	f.posts.Add(1)
	var b struct {
		Phone     string `json:"phone"`
		FirstName string `json:"first_name"`
		Consent   struct {
			SMS    bool   `json:"sms"`
			Source string `json:"source"`
		} `json:"consent"`
	}
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil || !e164UKMobile.MatchString(b.Phone) ||
		b.FirstName != "Load" || !b.Consent.SMS || b.Consent.Source != "bench" {
		http.Error(w, fmt.Sprintf("bad enrolment %+v %v", b, err), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	code, existing := f.phones[b.Phone]
	if existing {
		f.repeatPhones++
	} else {
		code = fmt.Sprintf("%07d", len(f.phones)+1)
		code += string(rune('0' + gs1Check(code)))
		f.phones[b.Phone], f.codes[code] = code, true
	}
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if existing {
		w.WriteHeader(http.StatusOK)
	} else {
		w.WriteHeader(http.StatusCreated)
	}
	fmt.Fprintf(w, `{"id":"mem_x","code":%q}`, code)
}

func (f *fakeAPI) get(w http.ResponseWriter, r *http.Request) {
	f.gets.Add(1)
	code := r.PathValue("code")
	if len(code) != 8 || int(code[7]-'0') != gs1Check(code[:7]) {
		http.Error(w, "not a member code", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	ok := f.codes[code]
	f.mu.Unlock()
	if !ok {
		http.Error(w, `{"title":"Not Found"}`, http.StatusNotFound)
		return
	}
	fmt.Fprintf(w, `{"id":"mem_x","code":%q}`, code)
}

// repeats returns how many enrolments reused a phone.
func (f *fakeAPI) repeats() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.repeatPhones
}

// gs1Check is the GS1 mod-10 check digit of seven data digits.
func gs1Check(d string) int {
	sum := 0
	for i := range 7 {
		v := int(d[i] - '0')
		if i%2 == 0 {
			v *= 3
		}
		sum += v
	}
	return (10 - sum%10) % 10
}
