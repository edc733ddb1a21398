package web

import (
	"net/http"
	"time"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/batch"
)

// batchRow is a job as the batch page lists it.
type batchRow struct {
	*batch.Job
	Summary batch.Summary
	Files   []string
}

// ruleTotal is one broken rule's count and amount on the batch page.
type ruleTotal struct {
	Rule   string
	Count  int
	Amount int64
}

// manageBatch lists batch jobs with their counts and files, and what the
// tills gave offline against the rules over the last 30 days.
func (s *Server) manageBatch(w http.ResponseWriter, r *http.Request, _ *auth.Operator) error {
	jobs, err := s.opt.Batch.List(r.Context(), 50)
	if err != nil {
		return err
	}
	rows := make([]batchRow, len(jobs))
	for i, j := range jobs {
		rows[i] = batchRow{Job: j, Summary: j.Summary()}
		if j.Kind == batch.KindTransactions {
			rows[i].Files = []string{j.ResultsFile(), batch.ErrorsFile}
		} else if j.Status == batch.JobDone {
			rows[i].Files = []string{"offers-" + orDefault(j.Filename, "all") + "." + string(j.Format), "manifest-" + orDefault(j.Filename, "all") + ".json"}
		}
	}
	since := s.opt.Now().Add(-30 * 24 * time.Hour)
	byRule := map[string]*ruleTotal{}
	var rules []*ruleTotal
	var recent []batch.Breach
	err = batch.EachBreach(r.Context(), s.db, since, func(b batch.Breach) error {
		t := byRule[b.Rule]
		if t == nil {
			t = &ruleTotal{Rule: b.Rule}
			byRule[b.Rule] = t
			rules = append(rules, t)
		}
		t.Count++
		t.Amount += b.Amount
		if len(recent) < 100 {
			recent = append(recent, b)
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "manage_batch", struct {
		page
		Jobs   []batchRow
		Rules  []*ruleTotal
		Recent []batch.Breach
	}{s.page("Batch files"), rows, rules, recent})
	return nil
}

func (s *Server) manageBatchFile(w http.ResponseWriter, r *http.Request, _ *auth.Operator) error {
	job, err := s.opt.Batch.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.serveJobFile(w, job, r.PathValue("name"))
}

func (s *Server) manageReconciliation(w http.ResponseWriter, r *http.Request, _ *auth.Operator) error {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="reconciliation.csv"`)
	_, err := batch.WriteReconciliation(r.Context(), s.db, time.Time{}, w)
	return err
}
