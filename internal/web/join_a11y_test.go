package web_test

import (
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/web"
)

// joinState is what a keyboard or screen-reader user meets on /join after
// sending it, read from the page in the browser.
type joinState struct {
	Title     string   `json:"title"`
	Focus     string   `json:"focus"`   // id of document.activeElement
	Summary   string   `json:"summary"` // role of the error summary
	Links     []string `json:"links"`   // where the summary's links go
	Invalid   []string `json:"invalid"` // ids with aria-invalid="true"
	PhoneDesc string   `json:"phoneDesc"`
	Consent   string   `json:"consentDesc"` // text of what aria-describedby names
	Phone     string   `json:"phone"`
	FirstName string   `json:"firstName"`
	Ticked    bool     `json:"ticked"`
}

const readJoinState = `(() => {
	const byId = id => document.getElementById(id);
	// The text a screen reader reads as the field's description.
	const desc = id => (byId(id).getAttribute("aria-describedby") || "").split(" ").filter(Boolean)
		.map(d => byId(d) ? byId(d).textContent.trim() : "<no element " + d + ">").join(" ");
	const summary = byId("error-summary");
	return {
		title: document.title, focus: document.activeElement.id, summary: summary ? summary.getAttribute("role") : "",
		links: [...document.querySelectorAll("#error-summary a")].map(a => a.getAttribute("href")),
		invalid: [...document.querySelectorAll("[aria-invalid=true]")].map(e => e.id),
		phoneDesc: desc("phone"), consentDesc: desc("consent"),
		phone: byId("phone").value, firstName: byId("first_name").value, ticked: byId("consent").checked,
	};
})()`

// TestJoinErrors_ForKeyboardAndScreenReader_InChromium sends /join with
// mistakes and checks what WCAG asks beyond what axe sees: the title says
// there is an error, focus lands on the first field to fix, the summary
// links to every invalid field, each error is the description of its field,
// and nothing typed is lost, not even when the form was sent too often.
func TestJoinErrors_ForKeyboardAndScreenReader_InChromium(t *testing.T) {
	const (
		title       = "Error: Join · Test Rewards"
		enterNumber = "Enter your mobile number."
		tickTheBox  = "Tick the box to agree to receive your card and offers by SMS."
	)
	tests := []struct {
		name             string
		phone, firstName string
		tick             bool
		want             joinState
	}{
		{"nothing typed, box not ticked: focus on the number, both errors linked", "", "Ann", false, joinState{
			Title: title, Focus: "phone", Summary: "alert", Links: []string{"#phone", "#consent"}, Invalid: []string{"phone", "consent"},
			PhoneDesc: enterNumber, Consent: tickTheBox, FirstName: "Ann"}},
		{"a number we cannot text", "0740", "", true, joinState{
			Title: title, Focus: "phone", Summary: "alert", Links: []string{"#phone"}, Invalid: []string{"phone"},
			PhoneDesc: "That is not a mobile number we can text (too short). Check it and try again.", Phone: "0740", Ticked: true}},
		{"a good number, box not ticked: focus on the box, its error is its description", "07400 123456", "Ann", false, joinState{
			Title: title, Focus: "consent", Summary: "alert", Links: []string{"#consent"}, Invalid: []string{"consent"},
			Consent: tickTheBox, Phone: "07400 123456", FirstName: "Ann"}},
		// The form was sent once per case above: the limit is reached.
		{"sent too often: the form comes back as typed, focus on the summary", "07400 123457", "Bea", true, joinState{
			Title: title, Focus: "error-summary", Summary: "alert", Phone: "07400 123457", FirstName: "Bea", Ticked: true}},
	}
	e := newEnv(t, storetest.SQLite(t), func(o *web.Options) { o.JoinPerMinute = len(tests) - 1 })
	b := newBrowser(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			actions := []chromedp.Action[chromedp.Void]{chromedp.Navigate(e.url + "/join"), chromedp.WaitVisible(chromedp.CSS("#phone"))}
			if tt.phone != "" {
				actions = append(actions, chromedp.SendKeys(chromedp.CSS("#phone"), tt.phone))
			}
			if tt.firstName != "" {
				actions = append(actions, chromedp.SendKeys(chromedp.CSS("#first_name"), tt.firstName))
			}
			if tt.tick {
				actions = append(actions, chromedp.Click(chromedp.CSS("#consent")))
			}
			actions = append(actions, chromedp.Click(chromedp.CSS("button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("#error-summary")))
			if err := chromedp.Do(b, actions...); err != nil {
				t.Fatal(err)
			}
			got, err := chromedp.Run(b, chromedp.Evaluate[joinState](readJoinState))
			if err != nil {
				t.Fatal(err)
			}
			if tt.want.Links == nil {
				tt.want.Links = []string{}
			}
			if tt.want.Invalid == nil {
				tt.want.Invalid = []string{}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("page after sending:\n got %+v\nwant %+v", got, tt.want)
			}
			// Following a summary link puts the keyboard on that field.
			for _, link := range got.Links {
				focus, err := chromedp.Run(b, chromedp.Evaluate[string](`document.querySelector('#error-summary a[href="`+link+`"]').click(); document.activeElement.id`))
				if err != nil || "#"+focus != link {
					t.Errorf("after following %s, focus is on %q (%v)", link, focus, err)
				}
			}
		})
	}

}

// TestJoin_ErrorPageMarkup checks the markup assistive technology relies on
// when /join comes back, on both databases and without a browser: the
// "Error:" title, a summary that is an alert with a link to each invalid
// field, aria-invalid and aria-describedby on each, autofocus on the first,
// and after too many sign-ups the same form with what was typed.
func TestJoin_ErrorPageMarkup(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		// Two sign-ups a minute: the third post is one too many.
		e := newEnv(t, db, func(o *web.Options) { o.JoinPerMinute = 2 })
		tests := []struct {
			name    string
			form    url.Values
			status  int
			want    []string
			notWant []string
		}{
			{"the empty form has no error markup", nil, 200, []string{"<title>Join · Test Rewards</title>"},
				[]string{"Error:", "error-summary", "aria-invalid", "autofocus"}},
			{"no number, no consent", url.Values{"first_name": {"Ann"}}, 422, []string{
				"<title>Error: Join · Test Rewards</title>",
				`id="error-summary" role="alert"`,
				`<a href="#phone">Enter your mobile number.</a>`,
				`<a href="#consent">Tick the box to agree to receive your card and offers by SMS.</a>`,
				`aria-invalid="true" aria-describedby="phone-error" autofocus`,
				`<p class="error" id="phone-error">Enter your mobile number.</p>`,
				`id="consent" type="checkbox" name="consent" value="yes" ` + "\n    " + `aria-invalid="true" aria-describedby="consent-error">`,
				`<p class="error" id="consent-error">Tick the box`,
				`id="first_name" name="first_name" type="text" autocomplete="given-name" value="Ann"`,
			}, []string{`aria-describedby="consent-error" autofocus`}},
			{"a name too long: the message names the field", url.Values{"phone": {"07400 123456"}, "consent": {"yes"},
				"last_name": {strings.Repeat("x", 101)}}, 422, []string{
				`<a href="#last_name">Last name is longer than 100 characters.</a>`,
				`aria-invalid="true" aria-describedby="last_name-error" autofocus`,
				`<p class="error" id="last_name-error">Last name is longer than 100 characters.</p>`,
			}, []string{`aria-describedby="phone-error"`}},
			{"too many sign-ups: the form as typed, the problem said at the top", url.Values{"phone": {"07400 123456"},
				"first_name": {"Ann"}, "last_name": {"Lee"}, "consent": {"yes"}, "campaign": {"C-9"}}, 429, []string{
				"<title>Error: Join · Test Rewards</title>",
				`id="error-summary" role="alert" aria-labelledby="error-summary-title" tabindex="-1" autofocus`,
				`<p id="form-problem">Too many sign-ups from your connection. Please wait a minute and press Join again.</p>`,
				`value="07400 123456"`, `value="Ann"`, `value="Lee"`, `name="campaign" value="C-9"`, `value="yes" checked`,
			}, []string{"aria-invalid"}},
		}
		for _, tt := range tests {
			var status int
			var body string
			if tt.form == nil {
				res, err := http.Get(e.url + "/join")
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				status, body = res.StatusCode, string(b)
			} else {
				status, body = postForm(t, e, "/join", tt.form, nil)
			}
			if status != tt.status {
				t.Errorf("%s: status %d, want %d", tt.name, status, tt.status)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("%s: page lacks %s", tt.name, w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(body, w) {
					t.Errorf("%s: page has %s", tt.name, w)
				}
			}
		}
	})
}
