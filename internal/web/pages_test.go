package web_test

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/barcode"
	"github.com/perk-platform/perk/internal/links"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/testenv"
	"github.com/perk-platform/perk/internal/web"
)

func postForm(t *testing.T, e *env, path string, form url.Values, header map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", e.url+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func TestJoin_FormRules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, func(o *web.Options) { o.JoinPerMinute = 3 })
		res, err := http.Get(e.url + "/join")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !strings.Contains(string(b), "Yes, text me offers. Reply STOP to opt out.") {
			t.Fatalf("GET /join = %d, consent wording missing", res.StatusCode)
		}
		good := url.Values{"phone": {"07400 123456"}, "first_name": {"Ann"}, "consent": {"yes"}}
		tests := []struct {
			name   string
			form   url.Values
			header map[string]string
			status int
			want   string
		}{
			{"cross-site post is refused", good, map[string]string{"Sec-Fetch-Site": "cross-site"}, 403, ""},
			{"no consent", url.Values{"phone": {"07400 123456"}}, nil, 422, "Tick the box"},
			{"signs up", good, nil, 200, "Check your phone"},
			{"again: the same answer", good, nil, 200, "Check your phone"},
			{"rate limited", good, nil, 429, "Too many sign-ups"},
		}
		for _, tt := range tests {
			status, body := postForm(t, e, "/join", tt.form, tt.header)
			if status != tt.status || !strings.Contains(body, tt.want) {
				t.Errorf("%s: %d, want %d with %q:\n%.300s", tt.name, status, tt.status, tt.want, body)
			}
		}
		m, err := e.members.ByPhone(t.Context(), "07400123456")
		if err != nil || m.Channel != member.ChannelWeb {
			t.Fatalf("member %+v, %v", m, err)
		}
		cs, _ := e.members.Consents(t.Context(), m.ID)
		if len(cs) != 1 || cs[0].SourceAddress != "127.0.0.1" || cs[0].Method != member.ChannelWeb {
			t.Fatalf("consent log %+v", cs)
		}
	})
}

// Anyone can type anyone's number into /join: the answer must not tell
// whether it is a member, and must never show that member's card. The card
// goes by text to the phone, at most once per member.CardResendGap.
func TestJoin_AnExistingNumberGetsTheNeutralAnswerAndItsCardByText(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		// Ann joined an hour before the server's clock, so her welcome is
		// older than the resend gap.
		joined := time.Now().Add(-time.Hour)
		ms := member.NewService(db, member.Options{Region: "GB", PublicURL: "http://perk.test", Programme: "Test Rewards",
			Now: func() time.Time { return joined }})
		ann, err := ms.Enrol(t.Context(), member.EnrolRequest{Profile: member.Profile{Phone: "07700 900001", FirstName: "Ann",
			LastName: "Lee"}, Channel: member.ChannelAPI, Consent: true})
		if err != nil {
			t.Fatal(err)
		}
		_, fresh := postForm(t, e, "/join", url.Values{"phone": {"07700 900002"}, "consent": {"yes"}}, nil)
		status, existing := postForm(t, e, "/join", url.Values{"phone": {"07700 900001"}, "consent": {"yes"}}, nil)
		if status != 200 {
			t.Fatalf("sign-up with a member's number = %d", status)
		}
		for _, secret := range []string{string(ann.Member.Code), ann.CardToken, "/c/", "Ann", "Lee", "already"} {
			if strings.Contains(existing, secret) {
				t.Errorf("the answer to a member's number shows %q:\n%s", secret, existing)
			}
		}
		if strings.ReplaceAll(fresh, "***002", "***001") != existing {
			t.Errorf("a member's number and a new one get different pages:\n%s\n---\n%s", fresh, existing)
		}
		cards := func() []string {
			rows, err := db.R.Query(`SELECT body FROM sms_outbox WHERE to_phone = '+447700900001' AND purpose IN ('welcome', 'card') ORDER BY created_at`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var out []string
			for rows.Next() {
				var b string
				rows.Scan(&b)
				out = append(out, b)
			}
			return out
		}
		got := cards()
		if len(got) != 2 || !strings.Contains(got[1], string(ann.Member.Code)) || !strings.Contains(got[1], "/c/"+ann.CardToken) {
			t.Fatalf("texts with the card to the member's phone: %q, want the welcome and one resend with code and link", got)
		}
		// Within the gap another sign-up with the number sends nothing more.
		postForm(t, e, "/join", url.Values{"phone": {"07700 900001"}, "consent": {"yes"}}, nil)
		if n := len(cards()); n != 2 {
			t.Errorf("a second sign-up within %v queued another card text (%d in all)", member.CardResendGap, n)
		}
	})
}

func TestJoin_CampaignLinkIsRecordedWithTheConsent(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	res, err := http.Get(e.url + "/join?campaign=spring-poster")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(b), `name="campaign" value="spring-poster"`) {
		t.Fatalf("the form does not carry the campaign:\n%s", b)
	}
	status, body := postForm(t, e, "/join", url.Values{"phone": {"07400 123456"}, "consent": {"yes"}, "campaign": {"spring-poster"}}, nil)
	if status != 200 {
		t.Fatalf("sign-up = %d %.200s", status, body)
	}
	m, _ := e.members.ByPhone(t.Context(), "07400123456")
	cs, _ := e.members.Consents(t.Context(), m.ID)
	if len(cs) != 1 || cs[0].Campaign != "spring-poster" || cs[0].Phone != "+447400123456" {
		t.Fatalf("consent log %+v", cs)
	}
}

func TestJoin_DoubleOptInByLink(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, func(o *web.Options) { o.DoubleOptIn = true })
		status, body := postForm(t, e, "/join", url.Values{"phone": {"07400 123456"}, "consent": {"yes"}}, nil)
		if status != 200 || !strings.Contains(body, "reply YES") {
			t.Fatalf("sign-up = %d %.300s", status, body)
		}
		m, _ := e.members.ByPhone(t.Context(), "07400123456")
		if m.Status != member.StatusPending {
			t.Fatalf("status %s, want pending", m.Status)
		}
		var msg string
		db.R.QueryRow(`SELECT body FROM sms_outbox WHERE purpose = 'confirm_optin'`).Scan(&msg)
		i := strings.Index(msg, "/join/confirm/")
		if i < 0 {
			t.Fatalf("confirmation SMS without a link: %q", msg)
		}
		token := strings.Fields(msg[i+len("/join/confirm/"):])[0]
		pages := map[string]string{}
		for want, path := range map[int]string{404: "/join/confirm/bogus", 200: "/join/confirm/" + token} {
			res, _ := http.Get(e.url + path)
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != want {
				t.Errorf("GET %s = %d, want %d", path, res.StatusCode, want)
			}
			pages[path] = string(b)
		}
		m, _ = e.members.ByPhone(t.Context(), "07400123456")
		if m.Status != member.StatusActive {
			t.Fatalf("status after confirmation %s", m.Status)
		}
		// The link came by SMS, so whoever opened it holds the phone: the
		// welcome page leads to the card, and only that one.
		card, err := e.members.CardToken(t.Context(), m.ID)
		if err != nil {
			t.Fatal(err)
		}
		link := `<a href="/c/` + card + `" id="card-link">Open your member card</a>`
		if !strings.Contains(pages["/join/confirm/"+token], link) {
			t.Errorf("welcome page lacks %s:\n%s", link, pages["/join/confirm/"+token])
		}
		if strings.Contains(pages["/join/confirm/bogus"], "/c/") {
			t.Errorf("a bad confirmation link shows a card link:\n%s", pages["/join/confirm/bogus"])
		}
	})
}

// TestBarcode_DecodesWithZbar renders a member's barcode through the API and
// reads it back with a real decoder, as a till scanner would.
func TestBarcode_DecodesWithZbar(t *testing.T) {
	zbar := testenv.Binary(t, "PERK_TEST_ZBARIMG", "zbarimg", "barcode decoding")
	e := newEnv(t, storetest.SQLite(t))
	status, out, _ := e.do("POST", "/v1/members", auth.RoleAdmin, `{"phone":"07400123456"}`)
	if status != 201 {
		t.Fatalf("enrol: %d %s", status, out)
	}
	m := decodeMember(t, out)
	for _, sym := range []barcode.Symbology{barcode.Code128, barcode.EAN8} {
		status, png, hdr := e.do("GET", "/v1/members/"+m.ID+"/barcode.png?symbology="+string(sym), auth.RoleReporting, nil)
		if status != 200 || hdr.Get("Content-Type") != "image/png" {
			t.Fatalf("%s: %d %s", sym, status, hdr.Get("Content-Type"))
		}
		file := filepath.Join(t.TempDir(), string(sym)+".png")
		os.WriteFile(file, png, 0o644)
		got, err := exec.Command(zbar, "--quiet", "--raw", file).Output()
		if err != nil {
			t.Fatalf("%s: zbarimg: %v", sym, err)
		}
		if strings.TrimSpace(string(got)) != m.Code {
			t.Errorf("%s: zbarimg read %q, want %s", sym, got, m.Code)
		}
	}
	status, svg, _ := e.do("GET", "/v1/members/"+m.Code+"/barcode.svg", auth.RoleReporting, nil)
	if status != 200 || !strings.Contains(string(svg), "<svg") || !strings.Contains(string(svg), m.Code) {
		t.Errorf("svg: %d %.200s", status, svg)
	}
}

func TestImportUpload_RunsAsAJob(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		csv := "Mobile,First Name,Loyalty Tier\n07400 100001,Ann,gold\n0740,Bad,x\n07400 100002,Bob,\n"
		status, out, hdr := e.do("POST", "/v1/imports/members?source=crm&filename=m.csv", auth.RoleManager, csv)
		if status != http.StatusAccepted || hdr.Get("Location") == "" {
			t.Fatalf("upload = %d %s", status, out)
		}
		var job member.ImportJob
		waitFor(t, func() bool {
			_, out, _ := e.do("GET", hdr.Get("Location"), auth.RoleReporting, nil)
			jsonUnmarshal(t, out, &job)
			return job.Status != member.JobRunning
		})
		want := member.ImportStats{Rows: 3, Created: 2, Rejected: 1}
		if job.Status != member.JobDone || job.Stats != want || job.Filename != "m.csv" || job.Source != "crm" {
			t.Fatalf("job %+v", job)
		}
		status, out, _ = e.do("GET", hdr.Get("Location")+"/errors.csv", auth.RoleReporting, nil)
		if status != 200 || string(out) != "row,column,reason\n3,mobile,too short\n" {
			t.Fatalf("errors.csv = %d %q", status, out)
		}
		ann, err := e.members.ByPhone(context.Background(), "07400100001")
		if err != nil || ann.Attributes["loyalty_tier"] != "gold" || ann.Source != "crm" {
			t.Fatalf("Ann: %+v %v", ann, err)
		}
		status, out, _ = e.do("POST", "/v1/imports/members", auth.RoleReporting, csv)
		if status != 403 {
			t.Errorf("reporting key uploaded: %d %s", status, out)
		}
	})
}

func TestImportUpload_Multipart(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("source", "crm-upload")
	fw, _ := mw.CreateFormFile("file", "members.csv")
	fw.Write([]byte("phone;name\n07400 100001;Ann\n"))
	mw.Close()
	req, _ := http.NewRequest("POST", e.url+"/v1/imports/members", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+e.keys[auth.RoleManager])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("multipart upload = %d", res.StatusCode)
	}
	var job member.ImportJob
	waitFor(t, func() bool {
		jsonUnmarshal(t, mustGet(t, e, res.Header.Get("Location")), &job)
		return job.Status != member.JobRunning
	})
	if job.Stats.Created != 1 || job.Filename != "members.csv" || job.Source != "crm-upload" {
		t.Fatalf("job %+v", job)
	}
	status, out, _ := e.do("POST", "/v1/imports/members", auth.RoleManager, "")
	if code, field := errorOf(t, out); status != 422 || code != "file_empty" || field != "file" {
		t.Fatalf("empty upload: %d %s", status, out)
	}
}

func TestLookup_ByEachIdentifier(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		enr, err := e.members.Enrol(t.Context(), member.EnrolRequest{Profile: member.Profile{Phone: "07400123456", ExternalID: "CRM 7"},
			Channel: member.ChannelAPI})
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{"code=" + string(enr.Member.Code), "phone=07400%20123456", "external_id=CRM%207", "card_token=" + enr.CardToken} {
			status, out, _ := e.do("GET", "/v1/members/lookup?"+q, auth.RoleReporting, nil)
			if status != 200 || decodeMember(t, out).ID != enr.Member.ID {
				t.Errorf("lookup?%s = %d %s", q, status, out)
			}
		}
		for q, want := range map[string]int{"": 422, "code=1&phone=2": 422, "external_id=nope": 404, "card_token=nope": 404} {
			if status, out, _ := e.do("GET", "/v1/members/lookup?"+q, auth.RoleReporting, nil); status != want {
				t.Errorf("lookup?%s = %d %s, want %d", q, status, out, want)
			}
		}
	})
}

func TestShortLink_RecordsTheClickAndRedirects(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ls := links.NewService(db, "http://perk.test", nil)
		e := newEnv(t, db, func(o *web.Options) { o.Links = ls })
		short, err := ls.Shorten(t.Context(), nil, links.Link{URL: "https://shop.example.com/spring"})
		if err != nil {
			t.Fatal(err)
		}
		code := strings.TrimPrefix(short, "http://perk.test/l/")
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		res, err := client.Get(e.url + "/l/" + code)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusFound || res.Header.Get("Location") != "https://shop.example.com/spring" {
			t.Fatalf("GET /l/%s = %d to %q", code, res.StatusCode, res.Header.Get("Location"))
		}
		if n, _ := ls.Clicks(t.Context(), code); n != 1 {
			t.Fatalf("%d clicks recorded", n)
		}
		if res, _ := client.Get(e.url + "/l/nope"); res.StatusCode != http.StatusNotFound {
			t.Fatalf("unknown link = %d", res.StatusCode)
		}
	})
}
