package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/tabular"
)

// memberKeyError is a member key of a bulk call that named no member.
type memberKeyError struct {
	Index  int    `json:"index"`
	Member string `json:"member"`
	Code   string `json:"code"`
	Reason string `json:"reason"`
}

// resolveKeys turns member keys (ext:CRM-5, codes, phones, ids) into member
// ids, listing each key that names no member by its index: one bad key in
// a CRM's ten thousand must not lose the others.
func (s *Server) resolveKeys(ctx context.Context, keys []string) ([]string, []memberKeyError, error) {
	if len(keys) == 0 {
		return nil, nil, problem.InvalidField("members", "required", nil, "name at least one member")
	}
	if len(keys) > campaign.MaxAssign {
		return nil, nil, problem.InvalidField("members", "too_many", nil, "at most %d members a call, not %d", campaign.MaxAssign, len(keys))
	}
	ids := make([]string, 0, len(keys))
	bad := []memberKeyError{}
	for i, k := range keys {
		id, err := s.resolveMemberID(ctx, k)
		if err != nil {
			var pe *problem.Error
			if kind := problem.KindOf(err); kind != problem.NotFound && kind != problem.Invalid {
				return nil, nil, err
			}
			code := "member_not_found"
			if errors.As(err, &pe) && pe.Code != "" {
				code = pe.Code
			}
			bad = append(bad, memberKeyError{Index: i, Member: k, Code: code, Reason: err.Error()})
			continue
		}
		ids = append(ids, id)
	}
	return ids, bad, nil
}

// assignMembers puts members into a launched list campaign:
// POST /v1/campaigns/{id}/members {"members": [...], "announce": true}.
func (s *Server) assignMembers(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	var b struct {
		Members  []string `json:"members"`
		Announce *bool    `json:"announce"`
	}
	if err := decodeJSON(w, r, &b); err != nil {
		return err
	}
	ids, bad, err := s.resolveKeys(r.Context(), b.Members)
	if err != nil {
		return err
	}
	a, err := s.opt.Campaigns.Assign(r.Context(), r.PathValue("id"), ids, b.Announce == nil || *b.Announce)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		*campaign.Assigned
		Errors []memberKeyError `json:"errors"`
	}{a, bad})
	return nil
}

// givePersonalOffer gives one offer to the members a CRM names:
// POST /v1/crm/offers {"offer": {...}, "members": [...], "announce": true}.
func (s *Server) givePersonalOffer(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	var b struct {
		Offer    *campaign.PersonalOffer `json:"offer"`
		Members  []string                `json:"members"`
		Announce *bool                   `json:"announce"`
	}
	if err := decodeJSON(w, r, &b); err != nil {
		return err
	}
	if b.Offer == nil {
		return problem.InvalidField("offer", "required", nil, "the offer to give is missing")
	}
	ids, bad, err := s.resolveKeys(r.Context(), b.Members)
	if err != nil {
		return err
	}
	g, err := s.opt.Campaigns.GivePersonal(r.Context(), *b.Offer, ids, b.Announce == nil || *b.Announce)
	if err != nil {
		return offerField(err)
	}
	writeJSON(w, http.StatusOK, struct {
		*campaign.Given
		Errors []memberKeyError `json:"errors"`
	}{g, bad})
	return nil
}

// offerField names a field of the offer's campaign spec as the offer's own:
// the offer is checked as a campaign is, but the caller wrote an offer.
func offerField(err error) error {
	var pe *problem.Error
	if !errors.As(err, &pe) || pe.Field == "" {
		return err
	}
	f := pe.Field
	for from, to := range map[string]string{"benefits[0]": "benefit", "limits.per_member": "uses", "name": "description"} {
		if f == from || strings.HasPrefix(f, from+".") {
			f = to + strings.TrimPrefix(f, from)
			break
		}
	}
	out := *pe
	out.Field = "offer." + f
	return &out
}

// maxSyncBody bounds a synchronous CRM sync request: about 10,000 rows of a
// typical CRM export. Bigger subsets go through POST /v1/crm/syncs (a job) or
// perk crm sync.
const maxSyncBody = 8 << 20

// syncFlags reads a CRM sync's settings: ?full= (take out the members the
// file leaves out; default false), ?welcome= (text new members; default
// true) and ?update_phones= (default false).
func syncFlags(r *http.Request) (full, welcome, updatePhones bool, err error) {
	if full, err = queryBool(r, "full", false); err != nil {
		return
	}
	if welcome, err = queryBool(r, "welcome", true); err != nil {
		return
	}
	updatePhones, err = queryBool(r, "update_phones", false)
	return
}

// syncSubset upserts the CRM subset from a member file in the body (CSV or
// TSV, keyed by external_id), synchronously: PUT /v1/crm/members
// ?full=&welcome=&update_phones=. It answers the stats and every rejected
// row.
func (s *Server) syncSubset(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	full, welcome, updatePhones, err := syncFlags(r)
	if err != nil {
		return err
	}
	type rowError struct {
		Row    int    `json:"row"`
		Column string `json:"column,omitempty"`
		Reason string `json:"reason"`
	}
	rejected := []rowError{}
	st, err := s.members.Import(r.Context(), http.MaxBytesReader(w, r.Body, maxSyncBody), member.ImportOptions{
		Source: "crm sync", NoWelcome: !welcome, UpdatePhones: updatePhones,
		Sync: member.NewSyncRun(s.opt.Now()), Full: full,
		OnError: func(e *tabular.RowError) error {
			rejected = append(rejected, rowError{e.Row, e.Column, e.Reason})
			return nil
		},
	})
	var tooBig *http.MaxBytesError
	var header *tabular.HeaderError
	switch {
	case errors.As(err, &tooBig):
		return &problem.Error{Kind: problem.TooLarge, Code: "body_too_large", Message: fmt.Sprintf(
			"a sync request is at most %d MB; send a bigger subset with POST /v1/crm/syncs or perk crm sync", maxSyncBody>>20)}
	case errors.As(err, &header):
		return problem.InvalidField("file", "header_invalid", err, "%s", header.Reason)
	case err != nil:
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"stats": st, "errors": rejected})
	return nil
}

// uploadSync accepts a CRM subset file of any size (as an import upload:
// raw body or the multipart part "file") and syncs it in the background as a
// durable job: POST /v1/crm/syncs?full=&welcome=&update_phones=. It answers
// 202 with the import record; GET /v1/imports/{id} follows it (and shows
// left_subset for a full sync), POST /v1/imports/{id}/cancel stops it, and
// a restart resumes it from its last committed chunk with the same run id.
func (s *Server) uploadSync(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	full, welcome, updatePhones, err := syncFlags(r)
	if err != nil {
		return err
	}
	up, err := s.receiveUpload(w, r, "crm-sync-*.csv")
	if err != nil {
		return err
	}
	source := up.source
	if source == "" {
		source = "crm sync " + up.filename
	}
	job, err := s.jobs.Start(s.ctx, up.path, up.filename, member.ImportOptions{Source: source, NoWelcome: !welcome,
		UpdatePhones: updatePhones, Sync: member.NewSyncRun(s.opt.Now()), Full: full})
	if err != nil {
		os.Remove(up.path)
		return err
	}
	w.Header().Set("Location", "/v1/imports/"+job.ID)
	writeJSON(w, http.StatusAccepted, job)
	return nil
}
