package web_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// TestCRMSyncUpload_RunsAsAJobAndShowsWhoLeft: a CRM subset file uploaded
// to POST /v1/crm/syncs is synced in the background as an import job,
// followed at GET /v1/imports/{id}, which shows the run, the counts and how
// many members a full sync took out of the subset (so does the console's
// imports page); its rejected rows are in
// the job's errors.csv; a bad flag is 422 and a reporting key 403.
func TestCRMSyncUpload_RunsAsAJobAndShowsWhoLeft(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		first := "phone,external_id,tags\n07400100001,CRM-1,gold\n07400100002,CRM-2,gold\n07400100003,CRM-3,gold\n"
		if st, out, _ := e.do("PUT", "/v1/crm/members?welcome=false", auth.RoleManager, first); st != http.StatusOK {
			t.Fatalf("first sync: %d %s", st, out)
		}
		// CRM-1 as it is, CRM-2 with a new segment, CRM-4's row rejected;
		// CRM-3 is left out.
		full := "phone,external_id,tags\n07400100001,CRM-1,gold\n07400100002,CRM-2,silver\n0740,CRM-4,gold\n"
		st, out, hdr := e.do("POST", "/v1/crm/syncs?full=true&welcome=false&filename=subset.csv", auth.RoleManager, full)
		if st != http.StatusAccepted || !strings.HasPrefix(hdr.Get("Location"), "/v1/imports/imp_") {
			t.Fatalf("upload = %d %s (Location %q)", st, out, hdr.Get("Location"))
		}
		var job member.ImportJob
		waitFor(t, func() bool {
			_, out, _ := e.do("GET", hdr.Get("Location"), auth.RoleReporting, nil)
			jsonUnmarshal(t, out, &job)
			return job.Status != member.JobRunning
		})
		want := member.ImportStats{Rows: 3, Updated: 1, Unchanged: 1, Rejected: 1, LeftSubset: 1}
		if job.Status != member.JobDone || job.Stats != want || !job.Full || !strings.HasPrefix(job.SyncRun, "syn_") ||
			job.Filename != "subset.csv" || job.Source != "crm sync subset.csv" {
			t.Fatalf("job %+v, want done with %+v", job, want)
		}
		st, out, _ = e.do("GET", hdr.Get("Location")+"/errors.csv", auth.RoleReporting, nil)
		if st != http.StatusOK || !strings.HasPrefix(string(out), "row,column,reason\n4,phone,") {
			t.Fatalf("errors.csv = %d %q", st, out)
		}
		// The console's imports page says it was a full sync and who left.
		if res, page := e.get(e.signIn(auth.RoleReporting), "/manage/imports"); res.StatusCode != http.StatusOK ||
			!strings.Contains(page, "CRM sync of the whole subset: 1 left it") {
			t.Errorf("/manage/imports = %d, without the sync's run and who left:\n%s", res.StatusCode, page)
		}
		for ext, in := range map[string]bool{"CRM-1": true, "CRM-2": true, "CRM-3": false} {
			m, err := e.members.Lookup(ctx, "ext:"+ext)
			if err != nil {
				t.Fatal(err)
			}
			if got := slices.Contains(m.Tags, member.SubsetTag); got != in {
				t.Errorf("%s in the subset: %v, want %v (tags %v)", ext, got, in, m.Tags)
			}
		}
		if st, out, _ := e.do("POST", "/v1/crm/syncs?full=maybe", auth.RoleManager, full); st != http.StatusUnprocessableEntity {
			t.Errorf("full=maybe: %d %s", st, out)
		}
		if st, out, _ := e.do("POST", "/v1/crm/syncs", auth.RoleReporting, full); st != http.StatusForbidden {
			t.Errorf("a reporting key started a sync: %d %s", st, out)
		}
	})
}
