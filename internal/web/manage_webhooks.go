package web

import (
	"net/http"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/webhook"
)

// manageWebhooks lists the endpoints and the latest deliveries: what an
// operator looks at when a CRM says it missed something. Changes go
// through the API or the CLI, which show a secret once.
func (s *Server) manageWebhooks(w http.ResponseWriter, r *http.Request, _ *auth.Operator) error {
	eps, err := s.opt.Webhooks.List(r.Context())
	if err != nil {
		return err
	}
	ds, err := s.opt.Webhooks.Recent(r.Context(), 50)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "manage_webhooks", struct {
		page
		Endpoints  []*webhook.Endpoint
		Deliveries []*webhook.Delivery
	}{s.page("Webhooks"), eps, ds})
	return nil
}
