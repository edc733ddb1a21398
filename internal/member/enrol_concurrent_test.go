package member_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// Shoppers double-tap the join button, a gateway redelivers a JOIN, two
// channels sign the same person up at once: however the enrolments of one
// phone interleave, each caller gets the answer a sequential repeat gets
// (that one member, Created only for one of them), never phone_taken.
func TestEnrol_ConcurrentSamePhoneAllGetTheOneMember(t *testing.T) {
	tests := []struct {
		name    string
		phones  []string // callers cycle through these spellings of one number
		consent bool
	}{
		{"same spelling", []string{"07400 555001"}, true},
		{"national and international spellings", []string{"07400555002", "+44 7400 555002"}, true},
		{"without consent", []string{"07400555003"}, false},
	}
	const callers = 50
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, _ := newService(t, db)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				type answer struct {
					e   *member.Enrolment
					err error
				}
				answers := make([]answer, callers)
				start := make(chan struct{})
				var wg sync.WaitGroup
				for i := range callers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-start
						e, err := s.Enrol(context.Background(), member.EnrolRequest{Channel: member.ChannelWeb,
							Profile: member.Profile{Phone: tt.phones[i%len(tt.phones)]}, Consent: tt.consent})
						answers[i] = answer{e, err}
					}()
				}
				close(start)
				wg.Wait()

				failed, created := 0, 0
				ids := map[string]int{}
				for i, a := range answers {
					if a.err != nil {
						failed++
						if failed <= 3 {
							t.Errorf("caller %d: %v", i, a.err)
						}
						continue
					}
					ids[a.e.Member.ID]++
					if a.e.Created {
						created++
					}
				}
				if failed > 0 {
					t.Errorf("%d of %d callers failed, want none", failed, callers)
				}
				if len(ids) > 1 || created != 1 {
					t.Errorf("callers got members %v (%d created), want one member, created once", ids, created)
				}
				n := countRows(t, db, `SELECT COUNT(*) FROM members m JOIN sms_outbox o ON o.member_id = m.id
					WHERE o.purpose = 'welcome' AND m.phone = (SELECT phone FROM members WHERE id = $1)`, firstKey(ids))
				if n != 1 {
					t.Errorf("%d welcome messages, want 1", n)
				}
			})
		}
		if n := countRows(t, db, `SELECT COUNT(*) FROM members`); n != len(tests) {
			t.Errorf("%d members, want %d (one per phone)", n, len(tests))
		}
	})
}

func firstKey(m map[string]int) string {
	for k := range m {
		return k
	}
	return ""
}

// An import that meets a phone enrolled after it looked the file's phones up
// updates that member, as if the enrolment had come first; it neither fails
// nor rejects the row.
func TestImport_ConcurrentEnrolmentsOfTheFilesPhones(t *testing.T) {
	const phones = 40
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, _ := newService(t, db)
		var file strings.Builder
		file.WriteString("phone,first_name\n")
		for i := range phones {
			fmt.Fprintf(&file, "07400600%03d,Imported\n", i)
		}
		start := make(chan struct{})
		var wg sync.WaitGroup
		enrolErrs := make([]error, phones)
		for i := range phones {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, enrolErrs[i] = s.Enrol(context.Background(), member.EnrolRequest{Channel: member.ChannelAPI,
					Profile: member.Profile{Phone: fmt.Sprintf("07400600%03d", i)}})
			}()
		}
		close(start)
		st, err := s.Import(context.Background(), strings.NewReader(file.String()), member.ImportOptions{BatchSize: 4})
		wg.Wait()
		if err != nil {
			t.Fatalf("import: %v", err)
		}
		for i, err := range enrolErrs {
			if err != nil {
				t.Errorf("enrolment %d: %v", i, err)
			}
		}
		if st.Rows != phones || st.Rejected != 0 {
			t.Errorf("import %+v, want %d rows, none rejected", st, phones)
		}
		if n := countRows(t, db, `SELECT COUNT(*) FROM members`); n != phones {
			t.Errorf("%d members, want %d", n, phones)
		}
		if n := countRows(t, db, `SELECT COUNT(*) FROM members WHERE first_name = 'Imported'`); n != phones {
			t.Errorf("%d members carry the file's name, want all %d (the import came last or updated them)", n, phones)
		}
	})
}
