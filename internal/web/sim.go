package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/phone"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/sms"
	"github.com/perk-platform/perk/internal/sms/router"
	"github.com/perk-platform/perk/internal/sms/sim"
)

// SimOptions switch on the SMS simulator page; both nil when another
// gateway is in use.
type SimOptions struct {
	Gateway *sim.Gateway
	Router  *router.Router
}

// simPage shows every simulated phone's traffic and a form to text Perk as
// any number. It is a development and demo tool: it exists only when the
// simulator is the gateway, where nothing typed here can reach a real phone.
func (s *Server) simPage(w http.ResponseWriter, r *http.Request) {
	phones := map[string]bool{}
	var order []string
	for _, e := range s.opt.Sim.Gateway.History("") {
		if !phones[e.Phone] {
			phones[e.Phone] = true
			order = append(order, e.Phone)
		}
	}
	s.render(w, r, http.StatusOK, "sim", struct {
		page
		Phones []string
		Events []sim.Event
	}{s.page("SMS simulator"), order, s.opt.Sim.Gateway.History("")})
}

// simOperator lets only a signed-in operator who may change members use the
// simulator: texting as any number reads that member's code and card link
// in the reply, and JOIN or STOP change the member.
func (s *Server) simOperator(h http.HandlerFunc) http.Handler {
	return s.operatorPage(auth.MembersWrite, func(w http.ResponseWriter, r *http.Request, _ *auth.Operator) error {
		h(w, r) // answers its own errors: the page's script reads them as JSON
		return nil
	})
}

// simInbound takes a message typed on a simulated phone and routes it like
// one from the network.
func (s *Server) simInbound(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	from, text := strings.TrimSpace(r.PostFormValue("from")), r.PostFormValue("text")
	n, err := phone.Parse(from, s.members.Region())
	if err != nil {
		writeError(w, r, s.log, member.InvalidPhone("from", err))
		return
	}
	if strings.TrimSpace(text) == "" {
		writeError(w, r, s.log, problem.InvalidField("text", "text_empty", nil, "type a message"))
		return
	}
	in := sms.Inbound{From: string(n), To: "sim", Body: text, ReceivedAt: s.opt.Now().UTC()}
	s.opt.Sim.Gateway.RecordInbound(in)
	res, err := s.opt.Sim.Router.Handle(r.Context(), in)
	if err != nil {
		s.log.ErrorContext(r.Context(), "sim inbound", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"keyword": res.Keyword, "member_id": res.MemberID, "replied": res.Replied})
}

// simEvents streams the simulator's traffic as server-sent events.
func (s *Server) simEvents(w http.ResponseWriter, r *http.Request) {
	// The controller reaches the real writer through the middleware's
	// wrapper (Unwrap). The server's write timeout is for ordinary
	// responses; a stream lives as long as the page is open.
	rc := http.NewResponseController(w)
	rc.SetWriteDeadline(time.Time{})
	events, stop := s.opt.Sim.Gateway.Subscribe()
	defer stop()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		s.log.ErrorContext(r.Context(), "sim events: cannot stream", "err", err)
		return
	}
	keepAlive := time.NewTicker(15 * time.Second)
	defer keepAlive.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.ctx.Done():
			return
		case <-keepAlive.C:
			fmt.Fprint(w, ": keep-alive\n\n")
		case e := <-events:
			b, _ := json.Marshal(e)
			fmt.Fprintf(w, "data: %s\n\n", b)
		}
		if rc.Flush() != nil {
			return
		}
	}
}
