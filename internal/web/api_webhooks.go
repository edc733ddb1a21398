package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/change"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/webhook"
)

// registerWebhooks adds /v1/webhooks: endpoints, secret rotation, the
// delivery log and replay. Admin keys only: the answers hold secrets.
func (s *Server) registerWebhooks(api func(string, auth.Permission, apiHandler)) {
	api("GET /v1/webhooks", auth.WebhooksManage, s.listWebhooks)
	api("POST /v1/webhooks", auth.WebhooksManage, s.createWebhook)
	api("GET /v1/webhooks/event-types", auth.WebhooksManage, s.webhookEventTypes)
	api("GET /v1/webhooks/{id}", auth.WebhooksManage, s.getWebhook)
	api("PUT /v1/webhooks/{id}", auth.WebhooksManage, s.putWebhook)
	api("DELETE /v1/webhooks/{id}", auth.WebhooksManage, s.deleteWebhook)
	api("POST /v1/webhooks/{id}/rotate", auth.WebhooksManage, s.rotateWebhook)
	api("GET /v1/webhooks/{id}/deliveries", auth.WebhooksManage, s.webhookDeliveries)
	api("GET /v1/webhooks/{id}/deliveries/{delivery}", auth.WebhooksManage, s.webhookDelivery)
	api("POST /v1/webhooks/{id}/deliveries/{delivery}/replay", auth.WebhooksManage, s.replayDelivery)
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	eps, err := s.opt.Webhooks.List(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"endpoints": eps})
	return nil
}

func (s *Server) webhookEventTypes(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	writeJSON(w, http.StatusOK, map[string]any{"event_types": change.Types})
	return nil
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	var sp webhook.Spec
	if err := decodeJSON(w, r, &sp); err != nil {
		return err
	}
	e, err := s.opt.Webhooks.Create(r.Context(), sp)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, e)
	return nil
}

func (s *Server) getWebhook(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	e, err := s.opt.Webhooks.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, e)
	return nil
}

func (s *Server) putWebhook(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	var sp webhook.Spec
	if err := decodeJSON(w, r, &sp); err != nil {
		return err
	}
	e, err := s.opt.Webhooks.Update(r.Context(), r.PathValue("id"), sp)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, e)
	return nil
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	if err := s.opt.Webhooks.Delete(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// rotateWebhook: POST /v1/webhooks/{id}/rotate, body optional:
// {"grace": "24h"}, how long the old secret keeps signing too.
func (s *Server) rotateWebhook(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	var body struct {
		Grace string `json:"grace"`
	}
	if r.ContentLength != 0 {
		if err := decodeJSON(w, r, &body); err != nil {
			return err
		}
	}
	var grace time.Duration
	if body.Grace != "" {
		d, err := time.ParseDuration(body.Grace)
		if err != nil || d <= 0 || d > 30*24*time.Hour {
			return problem.InvalidField("grace", "grace_invalid", err, "a duration such as 24h, at most 720h")
		}
		grace = d
	}
	e, err := s.opt.Webhooks.Rotate(r.Context(), r.PathValue("id"), grace)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, e)
	return nil
}

// webhookDeliveries: GET /v1/webhooks/{id}/deliveries?status=&before=&limit=
func (s *Server) webhookDeliveries(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	q := r.URL.Query()
	dq := webhook.DeliveryQuery{Status: q.Get("status"), Before: q.Get("before"), Limit: 50}
	switch dq.Status {
	case "", webhook.StatusPending, webhook.StatusSending, webhook.StatusDelivered, webhook.StatusDead:
	default:
		return problem.InvalidField("status", "status_invalid", nil, "pending, sending, delivered or dead")
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 500 {
			return problem.InvalidField("limit", "limit_invalid", nil, "must be between 1 and 500")
		}
		dq.Limit = n
	}
	ds, err := s.opt.Webhooks.Deliveries(r.Context(), r.PathValue("id"), dq)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"deliveries": ds})
	return nil
}

// endpointDelivery returns the delivery named in the path if it belongs to
// the endpoint named there.
func (s *Server) endpointDelivery(r *http.Request) (*webhook.Delivery, error) {
	d, err := s.opt.Webhooks.Delivery(r.Context(), r.PathValue("delivery"))
	if err != nil {
		return nil, err
	}
	if d.EndpointID != r.PathValue("id") {
		return nil, webhook.ErrNoDelivery
	}
	return d, nil
}

func (s *Server) webhookDelivery(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	d, err := s.endpointDelivery(r)
	if err != nil {
		return err
	}
	attempts, err := s.opt.Webhooks.Attempts(r.Context(), d.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		*webhook.Delivery
		AttemptLog []webhook.Attempt `json:"attempt_log"`
	}{d, attempts})
	return nil
}

func (s *Server) replayDelivery(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	if _, err := s.endpointDelivery(r); err != nil {
		return err
	}
	d, err := s.opt.Webhooks.Replay(r.Context(), r.PathValue("delivery"))
	if err != nil {
		return err
	}
	if s.opt.WakeWebhooks != nil {
		s.opt.WakeWebhooks()
	}
	writeJSON(w, http.StatusAccepted, d)
	return nil
}
