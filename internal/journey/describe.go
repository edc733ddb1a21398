package journey

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Describe says in a line what the step does and where it goes, so a
// journey's branches and waits read on a page or a terminal as the file
// wrote them. A jump names the step it goes to; no jump is the next step.
func (s *Step) Describe() string {
	var b strings.Builder
	switch s.Kind() {
	case KindWait:
		fmt.Fprintf(&b, "wait %s", short(time.Duration(s.Wait)))
	case KindWaitUntil:
		fmt.Fprintf(&b, "wait until %s on the member's clock", s.WaitUntil)
	case KindWaitFor:
		w := s.WaitFor
		fmt.Fprintf(&b, "wait for %s%s up to %s: on the event → %s, on timeout → %s", w.Event, where(w.Where),
			short(time.Duration(w.Timeout)), jumpTo(w.OnEvent), jumpTo(w.OnTimeout))
	case KindBranch:
		c := s.Branch.If
		cond := ""
		switch {
		case c.Tag != "":
			cond = "tagged " + c.Tag
		case c.Attribute != "":
			cond = fmt.Sprintf("%s is %q", c.Attribute, c.Equals)
		default:
			cond = "seen " + c.EventSeen + " since entering"
		}
		fmt.Fprintf(&b, "if %s → %s, else → %s", cond, jumpTo(s.Branch.Then), jumpTo(s.Branch.Else))
	case KindSMS:
		fmt.Fprintf(&b, "text %q", s.SMS)
	case KindOffer:
		fmt.Fprintf(&b, "give the offer %q", s.Offer.Description)
	case KindTag:
		var parts []string
		for _, t := range s.Tag.Add {
			parts = append(parts, "+"+t)
		}
		for _, t := range s.Tag.Remove {
			parts = append(parts, "-"+t)
		}
		fmt.Fprintf(&b, "tag %s", strings.Join(parts, " "))
	case KindWebhook:
		fmt.Fprintf(&b, "webhook %s", s.Webhook)
	case KindExit:
		b.WriteString("exit")
	default:
		b.WriteString("invalid step")
	}
	if s.Next != "" {
		fmt.Fprintf(&b, "; then → %s", s.Next)
	}
	return b.String()
}

func jumpTo(id string) string {
	if id == "" {
		return "next"
	}
	return id
}

func where(w map[string]string) string {
	if len(w) == 0 {
		return ""
	}
	keys := make([]string, 0, len(w))
	for k := range w {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + w[k]
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// short writes a duration as a file would: 7d, 2h, 90m, 1h30m.
func short(d time.Duration) string {
	if d > 0 && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
