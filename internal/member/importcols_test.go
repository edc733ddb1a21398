package member

import (
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/phone"
	"github.com/perk-platform/perk/internal/tabular"
)

// FuzzImportRow feeds arbitrary member files through the reader and the row
// cleaning: every record is either rejected with its row number and a reason,
// or becomes a profile whose values are already in canonical form.
func FuzzImportRow(f *testing.F) {
	f.Add("phone,first_name,email,birthday,consent,tier\n07400 123456,Ann,a@b.co,1990-01-02,yes,gold\n")
	f.Add("Mobile;Surname;DOB\n+44 7400 123456;\"O'Neil; Jr\";31/12/1990\n0740;x;\n")
	f.Add("customer_id\tsms_opt_in\tTags\nC1\tmaybe\ta|b|c\n")
	s := NewService(nil, Options{Region: "GB", Now: func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }})
	f.Fuzz(func(t *testing.T, file string) {
		rd, err := tabular.NewReader(strings.NewReader(file))
		if err != nil {
			return
		}
		cm, err := newColumnMap(rd.Header())
		if err != nil {
			return
		}
		for i := 0; i <= len(file)+1; i++ {
			rec, err := rd.Next()
			if err != nil {
				if _, ok := err.(*tabular.RowError); ok {
					continue
				}
				return
			}
			row, rowErr := cm.parse(rec, "GB", s)
			if rowErr != nil {
				if rowErr.Row != rec.Row || rowErr.Reason == "" {
					t.Fatalf("row error %+v for record at row %d", rowErr, rec.Row)
				}
				continue
			}
			p := row.profile
			if p.Phone == "" && p.ExternalID == "" {
				t.Fatalf("row %d accepted with neither phone nor external id", rec.Row)
			}
			if p.Phone != "" {
				if again, err := phone.Parse(p.Phone, ""); err != nil || string(again) != p.Phone {
					t.Fatalf("row %d: phone %q is not canonical", rec.Row, p.Phone)
				}
			}
			if again, err := p.clean("GB", s.opt.Now(), false); err != nil || !sameProfile(again, p) {
				t.Fatalf("row %d: cleaning is not idempotent: %+v -> %+v, %v", rec.Row, p, again, err)
			}
		}
	})
}
