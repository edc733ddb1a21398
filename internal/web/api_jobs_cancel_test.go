package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/batch"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// TestJobsAPI_Cancel: cancelling an upload's job that has finished leaves
// it as it was; an unknown job is 404; a command-line import, which is not
// a durable job, is 409.
func TestJobsAPI_Cancel(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, withBatch(t, db))
		st, body, _ := e.do("POST", "/v1/imports/members?filename=m.csv", auth.RoleManager, "phone,first_name\n07400100001,Ann\n")
		if st != http.StatusAccepted {
			t.Fatalf("upload: %d %s", st, body)
		}
		var imp member.ImportJob
		jsonUnmarshal(t, body, &imp)
		waitFor(t, func() bool {
			_, b, _ := e.do("GET", "/v1/imports/"+imp.ID, auth.RoleManager, nil)
			jsonUnmarshal(t, b, &imp)
			return imp.Status != member.JobRunning
		})
		st, body, _ = e.do("POST", "/v1/imports/"+imp.ID+"/cancel", auth.RoleManager, nil)
		jsonUnmarshal(t, body, &imp)
		if st != http.StatusOK || imp.Status != member.JobDone || imp.Stats.Created != 1 {
			t.Fatalf("cancel a finished import: %d %s", st, body)
		}
		if st, _, _ := e.do("POST", "/v1/imports/imp_nope/cancel", auth.RoleManager, nil); st != http.StatusNotFound {
			t.Errorf("cancel an unknown import: %d", st)
		}
		cli, err := member.NewJobs(e.members).Run(context.Background(), strings.NewReader("phone\n07400100002\n"), "cli.csv", member.ImportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if st, body, _ := e.do("POST", "/v1/imports/"+cli.ID+"/cancel", auth.RoleManager, nil); st != http.StatusConflict {
			t.Errorf("cancel a command-line import: %d %s", st, body)
		}
		if st, _, _ := e.do("POST", "/v1/imports/"+imp.ID+"/cancel", auth.RoleReporting, nil); st != http.StatusForbidden {
			t.Errorf("a reporting key cancelled an import: %d", st)
		}

		st, body, _ = e.do("POST", "/v1/batch/transactions?filename=t.csv", auth.RoleManager, "transaction_id,store,sku,quantity,unit_price\nT1,S001,A,1,250\n")
		if st != http.StatusAccepted {
			t.Fatalf("batch upload: %d %s", st, body)
		}
		var bj batch.Job
		jsonUnmarshal(t, body, &bj)
		waitFor(t, func() bool {
			_, b, _ := e.do("GET", "/v1/batch/jobs/"+bj.ID, auth.RoleReporting, nil)
			jsonUnmarshal(t, b, &bj)
			return bj.Status != batch.JobRunning
		})
		st, body, _ = e.do("POST", "/v1/batch/jobs/"+bj.ID+"/cancel", auth.RoleManager, nil)
		jsonUnmarshal(t, body, &bj)
		if st != http.StatusOK || bj.Status != batch.JobDone {
			t.Fatalf("cancel a finished batch job: %d %s", st, body)
		}
		if st, _, _ := e.do("POST", "/v1/batch/jobs/bat_nope/cancel", auth.RoleManager, nil); st != http.StatusNotFound {
			t.Errorf("cancel an unknown batch job: %d", st)
		}
	})
}
