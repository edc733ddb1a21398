package web_test

import (
	"reflect"
	"testing"

	"github.com/chromedp/chromedp"

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
