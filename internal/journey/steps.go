package journey

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/change"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/phone"
)

// run is one advance of one enrolment inside its transaction.
type run struct {
	s   *Service
	tx  *sql.Tx
	q   *stmts // the statements run on tx, prepared once per transaction
	e   *enrolment
	def *Definition
	now time.Time
	who *shopper // read once, when a step needs the member
}

// shopper is what steps read of a member.
type shopper struct {
	status, phone, first, last, code, zone string
	tags                                   []string
	attrs                                  map[string]string
}

// steps runs from the enrolment's step until one waits or the journey
// ends; given says the offer of the current step was given just before.
func (r *run) steps(ctx context.Context, given bool) error {
	e := r.e
	if e.holdout {
		// A holdout member runs nothing; their goal window has passed.
		r.end(ExitHoldout)
		return nil
	}
	for range maxStepsPerRun {
		if e.step >= len(r.def.Steps) {
			r.end(ExitCompleted)
			return nil
		}
		st := &r.def.Steps[e.step]
		next, wait, err := r.one(ctx, st, given)
		if err != nil {
			return err
		}
		given = false
		if wait || e.state != stateActive {
			return nil
		}
		e.step = next
	}
	e.nextAt = r.now // a safeguard only: go on at the next claim
	return nil
}

// one runs st. It returns the index of the step to go to, or wait = true
// when the enrolment now waits (e.nextAt set).
func (r *run) one(ctx context.Context, st *Step, given bool) (next int, wait bool, err error) {
	e := r.e
	after := r.index(st.Next, e.step+1)
	switch st.Kind() {
	case KindWait, KindWaitUntil:
		if !e.waiting {
			e.waiting = true
			if st.Wait != 0 {
				e.nextAt = r.now.Add(time.Duration(st.Wait))
			} else {
				who, err := r.shopper(ctx)
				if err != nil {
					return 0, false, err
				}
				e.nextAt = NextLocal(r.now, r.s.zone(who), st.WaitUntil)
			}
			return 0, true, nil
		}
		e.waiting = false
		return after, false, r.log(ctx, st, "waited", "")
	case KindWaitFor:
		if !e.waiting {
			e.waiting, e.woken, e.waitingFor = true, false, st.WaitFor.Event
			e.nextAt = r.now.Add(time.Duration(st.WaitFor.Timeout))
			return 0, true, nil
		}
		outcome, to := "timeout", r.index(st.WaitFor.OnTimeout, e.step+1)
		if e.woken {
			outcome, to = "event", r.index(st.WaitFor.OnEvent, e.step+1)
		}
		e.waiting, e.woken, e.waitingFor = false, false, ""
		return to, false, r.log(ctx, st, outcome, "")
	case KindBranch:
		ok, err := r.holds(ctx, st.Branch.If)
		if err != nil {
			return 0, false, err
		}
		if ok {
			return r.index(st.Branch.Then, e.step+1), false, r.log(ctx, st, "then", "")
		}
		return r.index(st.Branch.Else, e.step+1), false, r.log(ctx, st, "else", "")
	case KindSMS:
		outcome, msgID, err := r.sms(ctx, st)
		if err != nil {
			return 0, false, err
		}
		return after, false, r.log(ctx, st, outcome, msgID)
	case KindOffer:
		if !given {
			// Given outside this transaction: stop here, the next claim
			// gives it first.
			e.nextAt = r.now
			return 0, true, nil
		}
		return after, false, r.log(ctx, st, "given", "")
	case KindTag:
		changed, err := member.EditTags(ctx, r.tx, e.memberID, st.Tag.Add, st.Tag.Remove, r.now)
		if err != nil {
			return 0, false, err
		}
		r.who = nil // re-read if a later branch tests a tag
		return after, false, r.log(ctx, st, map[bool]string{true: "changed", false: "unchanged"}[changed], "")
	case KindWebhook:
		err := change.Record(ctx, r.s.opt.Webhooks, r.tx, change.Event{Type: change.JourneyWebhook, MemberID: e.memberID,
			Data: map[string]any{"journey": e.journey, "version": e.version, "step": st.ID, "name": st.Webhook, "enrolment_id": e.id}})
		if err != nil {
			return 0, false, err
		}
		return after, false, r.log(ctx, st, "recorded", "")
	case KindExit:
		if err := r.log(ctx, st, "exit", ""); err != nil {
			return 0, false, err
		}
		r.end(ExitStep)
		return 0, false, nil
	}
	return 0, false, fmt.Errorf("step %s: unknown kind", st.ID)
}

// index is the index of the step called to, or def when to is "".
func (r *run) index(to string, def int) int {
	if to == "" {
		return def
	}
	for i, st := range r.def.Steps {
		if st.ID == to {
			return i
		}
	}
	return def // Validate refuses unknown targets
}

func (r *run) end(reason string) {
	r.e.state, r.e.exitReason = stateEnded, reason
}

// log writes the step's row: the fire-once record, and what counts read.
func (r *run) log(ctx context.Context, st *Step, outcome, msgID string) error {
	e := r.e
	_, err := r.q.ExecContext(ctx, `INSERT INTO journey_steps (enrolment_id, n, journey, version, step, kind, outcome, message_id, at, due_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, e.id, e.stepsRun, e.journey, e.version, st.ID, st.Kind(), outcome,
		sql.NullString{String: msgID, Valid: msgID != ""}, r.now, e.dueAt)
	if err != nil {
		return fmt.Errorf("journey: log step %s: %w", st.ID, err)
	}
	e.stepsRun++
	return nil
}

// save writes the enrolment's new position, only while this runner's claim
// holds; otherwise the transaction is rolled back with every effect.
func (r *run) save(ctx context.Context, token string) error {
	e := r.e
	var next, ended any
	if e.state == stateActive {
		next = e.nextAt
	} else {
		ended = r.now
	}
	res, err := r.q.ExecContext(ctx, `UPDATE journey_enrolments SET step = $3, waiting = $4, woken = $5, waiting_for = $6,
		steps_run = $7, next_at = $8, state = $9, exit_reason = $10, ended_at = $11, attempts = 0, last_error = '',
		claim_token = NULL, lease_until = NULL
		WHERE id = $1 AND claim_token = $2 AND state = 'active'`,
		e.id, token, e.step, boolInt(e.waiting), boolInt(e.woken), e.waitingFor, e.stepsRun, next, e.state,
		e.exitReason, ended)
	if err != nil {
		return fmt.Errorf("journey: save %s: %w", e.id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errLost
	}
	return nil
}

var errLost = errors.New("journey: claim lost or enrolment ended meanwhile")

// shopper reads the member once per advance.
func (r *run) shopper(ctx context.Context) (*shopper, error) {
	if r.who != nil {
		return r.who, nil
	}
	w, err := readShopper(ctx, r.q, r.e.memberID)
	if err != nil {
		return nil, err
	}
	r.who = w
	return w, nil
}

// readShopper reads what steps need of a member; one erased (or gone)
// reads as status "erased".
func readShopper(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, memberID string) (*shopper, error) {
	var w shopper
	var tags, attrs string
	err := q.QueryRowContext(ctx, `SELECT status, COALESCE(phone, ''), first_name, last_name, code, timezone, tags, attributes
		FROM members WHERE id = $1`, memberID).Scan(&w.status, &w.phone, &w.first, &w.last, &w.code, &w.zone, &tags, &attrs)
	if errors.Is(err, sql.ErrNoRows) {
		w.status = "erased"
	} else if err != nil {
		return nil, fmt.Errorf("journey: read member %s: %w", memberID, err)
	} else {
		_ = json.Unmarshal([]byte(tags), &w.tags) // written by the member package: always valid
		_ = json.Unmarshal([]byte(attrs), &w.attrs)
	}
	return &w, nil
}

// holds evaluates a branch's condition.
func (r *run) holds(ctx context.Context, c Condition) (bool, error) {
	if c.EventSeen != "" {
		var n int
		err := r.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM events WHERE member_id = $1 AND type = $2 AND id > $3`,
			r.e.memberID, c.EventSeen, r.triggerSeq(ctx)).Scan(&n)
		return n > 0, err
	}
	w, err := r.shopper(ctx)
	if err != nil {
		return false, err
	}
	if c.Tag != "" {
		return slices.Contains(w.tags, strings.ToLower(c.Tag)), nil
	}
	return w.attrs[c.Attribute] == c.Equals, nil
}

// triggerSeq is the stream position the enrolment entered at: "since
// entering" means after it.
func (r *run) triggerSeq(ctx context.Context) int64 {
	var seq int64
	_ = r.q.QueryRowContext(ctx, `SELECT trigger_seq FROM journey_enrolments WHERE id = $1`, r.e.id).Scan(&seq)
	return seq
}

// sms renders the step's text for the member and queues it as marketing:
// the contact policy (opt-out, quiet hours, the cap) decides at send time,
// as for campaigns. A member who cannot be texted now is logged with why.
func (r *run) sms(ctx context.Context, st *Step) (outcome, msgID string, err error) {
	w, err := r.shopper(ctx)
	if err != nil {
		return "", "", err
	}
	switch {
	case w.status == "erased":
		return "skipped_erased", "", nil
	case w.phone == "":
		return "skipped_no_phone", "", nil
	}
	tmpl, err := parseTemplate(st.ID, st.SMS)
	if err != nil {
		return "", "", err
	}
	msgID, err = campaign.QueueText(ctx, r.tx, tmpl, w.recipient(r.e.memberID), r.s.textOptions(r.e.journey), r.now)
	if err != nil {
		return "", "", err
	}
	return "queued", msgID, nil
}

// recipient is who a text is written for.
func (w *shopper) recipient(memberID string) campaign.Recipient {
	return campaign.Recipient{MemberID: memberID, Phone: w.phone, FirstName: w.first, LastName: w.last, Code: w.code, Attributes: w.attrs}
}

// textOptions is how the journey's texts are written: as campaigns', under
// the purpose "journey:NAME".
func (s *Service) textOptions(journey string) campaign.TextOptions {
	return campaign.TextOptions{PublicURL: s.opt.PublicURL, Programme: s.opt.Programme, Links: s.opt.Links, Purpose: "journey:" + journey}
}

// zone is the member's time zone: their own, else their number's, else the
// programme's.
func (s *Service) zone(w *shopper) *time.Location {
	name := w.zone
	if name == "" && w.phone != "" {
		name = phone.Number(w.phone).TimeZone()
	}
	if name != "" {
		if loc, err := time.LoadLocation(name); err == nil {
			return loc
		}
	}
	return s.opt.Zone
}

// NextLocal is the first instant after now at which a clock in loc shows
// hhmm ("09:00"), DST-exact: on a day the time does not exist (skipped by a
// spring-forward) it is that time on the clock after the change (01:30
// becomes 02:30), as Go normalises it.
func NextLocal(now time.Time, loc *time.Location, hhmm string) time.Time {
	var h, m int
	fmt.Sscanf(hhmm, "%d:%d", &h, &m)
	l := now.In(loc)
	for d := 0; d < 3; d++ {
		t := time.Date(l.Year(), l.Month(), l.Day()+d, h, m, 0, 0, loc)
		if t.After(now) {
			return t.UTC()
		}
	}
	return now.Add(24 * time.Hour).UTC() // unreachable: one of three days is later
}

// stmts prepares each statement once per transaction and reuses it for
// every member the transaction advances: on SQLite, parsing the same
// statements again for each member was a third of the runner's CPU
// (docs/benchmarks.md). Statements close with the transaction.
type stmts struct {
	tx *sql.Tx
	m  map[string]*sql.Stmt
}

func newStmts(tx *sql.Tx) *stmts { return &stmts{tx: tx, m: map[string]*sql.Stmt{}} }

func (c *stmts) prepare(ctx context.Context, q string) (*sql.Stmt, error) {
	if st, ok := c.m[q]; ok {
		return st, nil
	}
	st, err := c.tx.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	c.m[q] = st
	return st, nil
}

// ExecContext runs q as tx.ExecContext does.
func (c *stmts) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	st, err := c.prepare(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

// QueryRowContext runs q as tx.QueryRowContext does.
func (c *stmts) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	st, err := c.prepare(ctx, q)
	if err != nil {
		return c.tx.QueryRowContext(ctx, q, args...) // returns the same error through Scan
	}
	return st.QueryRowContext(ctx, args...)
}
