package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/batch"
	"github.com/perk-platform/perk/internal/job"
	"github.com/perk-platform/perk/internal/ledger"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/web"
)

func withBatch(t *testing.T, db *store.DB) func(*web.Options) {
	return func(o *web.Options) {
		proc := batch.NewProcessor(o.Checkout, batch.Options{DB: db})
		exp := batch.NewExporter(db, o.Campaigns, ledger.Policy{}, nil)
		o.Batch = batch.NewJobs(db, proc, exp, t.TempDir(), nil, nil)
		// Uploaded files are durable jobs, on a queue of the test's own.
		q := job.New(db, job.Options{Node: "test-batch", Poll: 10 * time.Millisecond})
		o.Batch.UseQueue(q)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); q.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done; o.Batch.Wait() })
	}
}

// TestBatchAPI_UploadJobFilesOffersAndPage: an uploaded transaction file is
// a job whose status, results and errors can be fetched; an offer export
// answers its file with the next cursor; the dashboard lists the job.
func TestBatchAPI_UploadJobFilesOffersAndPage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, withBatch(t, db))
		file := "transaction_id,store,sku,quantity,unit_price\nT1,S001,A,1,250\nT2,S001,B,x,100\n"
		st, body, hdr := e.do("POST", "/v1/batch/transactions?filename=tills.csv", auth.RoleManager, file)
		if st != http.StatusAccepted || hdr.Get("Location") == "" {
			t.Fatalf("upload: %d %s", st, body)
		}
		var job batch.Job
		jsonUnmarshal(t, body, &job)
		waitFor(t, func() bool {
			_, b, _ := e.do("GET", "/v1/batch/jobs/"+job.ID, auth.RoleReporting, nil)
			jsonUnmarshal(t, b, &job)
			return job.Status != batch.JobRunning
		})
		if s := job.Summary(); job.Status != batch.JobDone || s.Committed != 1 || s.RowErrors != 1 {
			t.Fatalf("job %+v, summary %+v", job, s)
		}
		st, body, _ = e.do("GET", "/v1/batch/jobs/"+job.ID+"/files/errors.csv", auth.RoleReporting, nil)
		if st != http.StatusOK || !strings.Contains(string(body), `3,quantity,"""x"" is not a number"`) {
			t.Errorf("errors file: %d %s", st, body)
		}
		st, body, _ = e.do("GET", "/v1/batch/jobs/"+job.ID+"/files/results.csv", auth.RoleReporting, nil)
		if st != http.StatusOK || !strings.Contains(string(body), "T1,,committed") {
			t.Errorf("results file: %d %s", st, body)
		}
		for _, bad := range []string{"../" + job.ID, ".hidden", "nope.csv"} {
			if st, _, _ := e.do("GET", "/v1/batch/jobs/"+job.ID+"/files/"+bad, auth.RoleReporting, nil); st != http.StatusNotFound {
				t.Errorf("file %q: %d, want 404", bad, st)
			}
		}
		if st, body, _ := e.do("POST", "/v1/batch/transactions?mode=later", auth.RoleManager, file); st != http.StatusUnprocessableEntity {
			t.Errorf("unknown mode: %d %s", st, body)
		} else if code, field := errorOf(t, body); code != "mode_invalid" || field != "mode" {
			t.Errorf("unknown mode: %s %s", code, field)
		}
		if st, _, _ := e.do("POST", "/v1/batch/transactions", auth.RolePOS, file); st != http.StatusForbidden {
			t.Errorf("a till's key uploads a file: %d, want 403", st)
		}

		st, body, hdr = e.do("GET", "/v1/batch/offers?format=jsonl", auth.RoleReporting, nil)
		if st != http.StatusOK || !strings.HasPrefix(hdr.Get("Perk-Cursor"), "v1.") || hdr.Get("Perk-Export") != "full" {
			t.Errorf("offers: %d %v %s", st, hdr, body)
		}
		if st, body, _ := e.do("GET", "/v1/batch/offers?since=bogus", auth.RoleReporting, nil); st != http.StatusUnprocessableEntity {
			t.Errorf("bad cursor: %d %s", st, body)
		}
		st, body, _ = e.do("GET", "/v1/batch/jobs", auth.RoleReporting, nil)
		var list struct{ Jobs []batch.Job }
		json.Unmarshal(body, &list)
		if st != http.StatusOK || len(list.Jobs) != 2 {
			t.Errorf("jobs: %d %s", st, body)
		}

		c := e.signIn(auth.RoleReporting)
		res, page := e.get(c, "/manage/batch")
		if res.StatusCode != http.StatusOK || !strings.Contains(page, "tills.csv") || !strings.Contains(page, "1 recorded") {
			t.Errorf("batch page: %d\n%s", res.StatusCode, page)
		}
	})
}
