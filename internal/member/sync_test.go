package member_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// TestCRMSync_TheSubsetFollowsTheCRM: a sync names its members by CRM id;
// each joins the subset (tag crm) with the file's tags as its segments, or
// keeps its own tags when the row has none; a row without a CRM id is
// refused; a full sync takes out of the subset whoever it leaves out,
// deleting nobody, and is harmless when repeated.
func TestCRMSync_TheSubsetFollowsTheCRM(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, _ := newService(t, db)
		importText(t, s, "phone,external_id,tags\n07400100001,CRM-1,vip\n07400100003,CRM-3,\n", member.ImportOptions{})
		tags := func(ext string) string {
			t.Helper()
			m, err := s.Lookup(ctx, "ext:"+ext)
			if err != nil {
				t.Fatalf("ext:%s: %v", ext, err)
			}
			return strings.Join(m.Tags, ",")
		}
		run := func(file string, full bool) (member.ImportStats, string) {
			t.Helper()
			return importText(t, s, file, member.ImportOptions{Sync: member.NewSyncRun(time.Now()), Full: full})
		}
		st, errs := run("phone,external_id,tags,consent\n07400100001,CRM-1,gold,yes\n07400100002,CRM-2,,yes\n07400100009,,gold,yes\n07400100003,CRM-3,,\n", false)
		if st.Created != 1 || st.Updated != 2 || st.Rejected != 1 || st.LeftSubset != 0 ||
			!strings.Contains(errs, "4,external_id,a CRM sync names every member by external_id") {
			t.Fatalf("first sync %+v\n%s", st, errs)
		}
		for ext, want := range map[string]string{"CRM-1": "gold,crm", "CRM-2": "crm", "CRM-3": "crm"} {
			if got := tags(ext); got != want {
				t.Errorf("after the sync ext:%s has tags %q, want %q", ext, got, want)
			}
		}
		// A member the full sync creates is in the subset it leaves (marked
		// as it is inserted).
		st, _ = run("phone,external_id,tags\n,CRM-2,silver\n07400100004,CRM-4,\n", true)
		if st.LeftSubset != 2 || st.Updated != 1 || st.Created != 1 {
			t.Fatalf("full sync %+v, want CRM-4 created, CRM-1 and CRM-3 to leave", st)
		}
		for ext, want := range map[string]string{"CRM-1": "gold", "CRM-2": "silver,crm", "CRM-3": "", "CRM-4": "crm"} {
			if got := tags(ext); got != want {
				t.Errorf("after the full sync ext:%s has tags %q, want %q", ext, got, want)
			}
		}
		if st, _ = run("phone,external_id,tags\n,CRM-2,silver\n07400100004,CRM-4,\n", true); st.LeftSubset != 0 || st.Unchanged != 2 {
			t.Errorf("the same full sync again: %+v, want nothing to change", st)
		}
		var n int
		db.R.QueryRow(`SELECT COUNT(*) FROM members`).Scan(&n)
		if n != 4 {
			t.Errorf("%d members, want 4: a sync deletes nobody", n)
		}
		if m, _ := s.Lookup(ctx, "ext:CRM-1"); m == nil || slices.Contains(m.Tags, member.SubsetTag) || m.Status == member.StatusErased {
			t.Errorf("CRM-1 after leaving: %+v", m)
		}
	})
}
