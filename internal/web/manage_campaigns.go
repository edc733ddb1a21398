package web

import (
	"net/http"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/problem"
)

func (s *Server) manageCampaigns(w http.ResponseWriter, r *http.Request, _ *auth.Operator) error {
	cs, err := s.opt.Campaigns.List(r.Context(), "")
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "manage_campaigns", struct {
		page
		Campaigns []*campaign.Campaign
	}{s.page("Campaigns"), cs})
	return nil
}

// manageNew is the form for a new campaign: two weeks from today for
// everyone, 10% off, and a blank benefit row for another.
func (s *Server) manageNew(w http.ResponseWriter, r *http.Request, _ *auth.Operator) error {
	now := s.opt.Now().UTC()
	f := formFromSpec(campaign.Spec{Start: now.Format("2006-01-02"), End: now.AddDate(0, 0, 14).Format("2006-01-02"),
		Audience: campaign.Audience{Kind: campaign.AudienceAll}, Benefits: []engine.Benefit{{Kind: engine.PercentOff, Percent: 10}}},
		s.opt.Currency)
	s.renderForm(w, r, http.StatusOK, "", f, nil)
	return nil
}

// renderForm shows the campaign form with err (nil, or why it was not
// saved) beside the input it is about.
func (s *Server) renderForm(w http.ResponseWriter, r *http.Request, status int, id string, f *campaignForm, err error) {
	if err != nil {
		f.fail(err)
		if problem.KindOf(err) == problem.Internal {
			s.log.ErrorContext(r.Context(), "campaign form", "err", err)
			f.General = "Something went wrong; the campaign was not saved."
		}
	}
	title := "New campaign"
	if id != "" {
		title = "Edit " + f.Get("name")
	}
	s.render(w, r, status, "manage_form", struct {
		page
		ID   string
		Form *campaignForm
	}{s.page(title), id, f})
}

// saveForm reads the posted form and, unless it only asked for another
// benefit row (shown again, unsaved), saves it with save.
func (s *Server) saveForm(w http.ResponseWriter, r *http.Request, id string, save func(campaign.Spec) (*campaign.Campaign, error)) error {
	r.Body = http.MaxBytesReader(w, r.Body, 256<<10)
	if err := r.ParseForm(); err != nil {
		return problem.New(problem.BadRequest, "form_invalid", "The form could not be read.")
	}
	f := formOf(r.PostForm)
	if r.PostForm.Get("more") != "" {
		s.renderForm(w, r, http.StatusOK, id, f, nil)
		return nil
	}
	sp, err := f.spec(s.opt.Currency) // its errors are all Invalid: 422
	var c *campaign.Campaign
	if err == nil {
		c, err = save(sp)
	}
	if err != nil {
		return &formError{id: id, form: f, err: err}
	}
	http.Redirect(w, r, "/manage/campaigns/"+c.ID, http.StatusSeeOther)
	return nil
}

func (s *Server) manageCreate(w http.ResponseWriter, r *http.Request, _ *auth.Operator) error {
	return s.saveForm(w, r, "", func(sp campaign.Spec) (*campaign.Campaign, error) {
		return s.opt.Campaigns.Create(r.Context(), sp)
	})
}

// manageEdit is the form filled with a campaign's spec.
func (s *Server) manageEdit(w http.ResponseWriter, r *http.Request, _ *auth.Operator) error {
	c, err := s.opt.Campaigns.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	s.renderForm(w, r, http.StatusOK, c.ID, formFromSpec(c.Spec, s.opt.Currency), nil)
	return nil
}

func (s *Server) manageUpdate(w http.ResponseWriter, r *http.Request, _ *auth.Operator) error {
	id := r.PathValue("id")
	return s.saveForm(w, r, id, func(sp campaign.Spec) (*campaign.Campaign, error) {
		return s.opt.Campaigns.Update(r.Context(), id, sp, 0)
	})
}
