package web

import (
	"io"
	"net/http"
	"os"
	"time"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/batch"
	"github.com/perk-platform/perk/internal/problem"
)

func (s *Server) registerBatch(api func(string, auth.Permission, apiHandler)) {
	api("GET /v1/batch/offers", auth.CampaignsRead, s.batchOffers)
	api("POST /v1/batch/transactions", auth.CampaignsWrite, s.batchTransactions)
	api("GET /v1/batch/jobs", auth.CampaignsRead, s.batchJobs)
	api("GET /v1/batch/jobs/{id}", auth.CampaignsRead, s.batchJob)
	api("POST /v1/batch/jobs/{id}/cancel", auth.CampaignsWrite, s.batchJobCancel)
	api("GET /v1/batch/jobs/{id}/files/{name}", auth.CampaignsRead, s.batchJobFile)
	api("GET /v1/batch/reconciliation.csv", auth.CampaignsRead, s.batchReconciliation)
}

// batchOffers runs an offer export and answers its members' file; the
// headers give the next cursor and the job, whose files (the anonymous
// offers, the manifest) GET /v1/batch/jobs/{id}/files/{name} serves.
func (s *Server) batchOffers(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	q := r.URL.Query()
	f, err := batch.ParseFormat(orDefault(q.Get("format"), "csv"))
	if err != nil {
		return problem.InvalidField("format", "format_invalid", err, "use csv or jsonl")
	}
	job, m, err := s.opt.Batch.Offers(r.Context(), batch.ExportOptions{Store: q.Get("store"), Format: f, Since: q.Get("since")}, "api")
	if err != nil {
		return err
	}
	w.Header().Set("Perk-Cursor", m.Cursor)
	w.Header().Set("Perk-Batch-Job", job.ID)
	if m.Full {
		w.Header().Set("Perk-Export", "full")
	} else {
		w.Header().Set("Perk-Export", "delta")
	}
	return s.serveJobFile(w, job, m.Files[0].Name)
}

// batchTransactions takes a transaction file (raw body or the "file" part
// of a form) and answers 202 with its job, processed in the background.
func (s *Server) batchTransactions(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	q := r.URL.Query()
	mode, err := batch.ParseMode(q.Get("mode"))
	if err != nil {
		return problem.InvalidField("mode", "mode_invalid", err, "use decide or applied")
	}
	up, err := s.receiveUpload(w, r, "transactions-*")
	if err != nil {
		return err
	}
	f, err := batch.ParseFormat(orDefault(q.Get("format"), orDefault(extOf(up.filename), "csv")))
	if err != nil {
		os.Remove(up.path)
		return problem.InvalidField("format", "format_invalid", err, "use csv or jsonl")
	}
	job, err := s.opt.Batch.StartTransactions(s.ctx, up.path, up.filename, orDefault(up.source, "upload"), f, mode)
	if err != nil {
		os.Remove(up.path)
		return err
	}
	w.Header().Set("Location", "/v1/batch/jobs/"+job.ID)
	writeJSON(w, http.StatusAccepted, job)
	return nil
}

func (s *Server) batchJobs(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	jobs, err := s.opt.Batch.List(r.Context(), 100)
	if err != nil {
		return err
	}
	if jobs == nil {
		jobs = []*batch.Job{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"jobs": jobs})
	return nil
}

func (s *Server) batchJob(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	job, err := s.opt.Batch.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, job)
	return nil
}

// batchJobCancel stops an uploaded transaction file's job; what it
// committed stays.
func (s *Server) batchJobCancel(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	job, err := s.opt.Batch.Cancel(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, job)
	return nil
}

func (s *Server) batchJobFile(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	job, err := s.opt.Batch.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.serveJobFile(w, job, r.PathValue("name"))
}

func (s *Server) serveJobFile(w http.ResponseWriter, job *batch.Job, name string) error {
	f, err := s.opt.Batch.Open(job, name)
	if err != nil {
		return err
	}
	defer f.Close()
	ctype := "text/csv; charset=utf-8"
	switch extOf(name) {
	case "jsonl":
		ctype = "application/x-ndjson"
	case "json":
		ctype = "application/json"
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", `attachment; filename="`+job.ID+"-"+name+`"`)
	_, err = io.Copy(w, f)
	return err
}

func (s *Server) batchReconciliation(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	var since time.Time
	if v := r.URL.Query().Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			if t, err = time.Parse(time.DateOnly, v); err != nil {
				return problem.InvalidField("since", "since_invalid", err, "use a date (2026-11-01) or an RFC 3339 time")
			}
		}
		since = t
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="reconciliation.csv"`)
	_, err := batch.WriteReconciliation(r.Context(), s.db, since, w)
	return err
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// extOf is a file name's extension without the dot.
func extOf(name string) string {
	for i := len(name) - 1; i >= 0 && name[i] != '/'; i-- {
		if name[i] == '.' {
			return name[i+1:]
		}
	}
	return ""
}
