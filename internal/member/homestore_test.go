package member_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/tabular"
)

func addStores(t *testing.T, db *store.DB, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if _, err := db.W.Exec(`INSERT INTO stores (id, name, created_at) VALUES ($1, $2, $3)`, id, "Store "+id,
			time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
			t.Fatal(err)
		}
	}
}

// isHomeStoreRefusal reports whether err is the field-precise refusal of an
// unknown home store.
func isHomeStoreRefusal(err error) bool {
	var pe *problem.Error
	return errors.As(err, &pe) && pe.Kind == problem.Invalid && pe.Field == "home_store" && pe.Code == "home_store_unknown"
}

// A member's home store must be a store of the catalogue, once there is a
// catalogue: while the stores table is empty (no store has been set up yet,
// the catalogue has no API of its own) any store id is taken as given.
func TestHomeStore_MustBeInTheCatalogueOnceThereIsOne(t *testing.T) {
	tests := []struct {
		name    string
		stores  []string // the catalogue
		store   string   // the home store asked for
		refused bool
	}{
		{"empty catalogue takes any id", nil, "S999", false},
		{"known store", []string{"S001", "S002"}, "S002", false},
		{"no home store", []string{"S001"}, "", false},
		{"unknown store", []string{"S001"}, "S999", true},
		{"ids are exact, not case-folded", []string{"S001"}, "s001", true},
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				// The rule depends on whether the catalogue is empty: each case sets its own.
				if _, err := db.W.Exec(`DELETE FROM stores`); err != nil {
					t.Fatal(err)
				}
				addStores(t, db, tt.stores...)
				phone := func(n int) string { return fmt.Sprintf("074007%02d%03d", i, n) }
				s, _ := newService(t, db)
				ctx := context.Background()

				_, err := s.Enrol(ctx, member.EnrolRequest{Channel: member.ChannelAPI,
					Profile: member.Profile{Phone: phone(1), HomeStore: tt.store}})
				if isHomeStoreRefusal(err) != tt.refused || (err != nil && !tt.refused) {
					t.Errorf("Enrol: err = %v, want refused %v", err, tt.refused)
				}

				m := enrol(t, s, member.EnrolRequest{Profile: member.Profile{Phone: phone(2)}}).Member
				_, err = s.Update(ctx, m.ID, member.Patch{HomeStore: &tt.store})
				if isHomeStoreRefusal(err) != tt.refused || (err != nil && !tt.refused) {
					t.Errorf("Update: err = %v, want refused %v", err, tt.refused)
				}

				var errs bytes.Buffer
				ew := tabular.NewErrorWriter(&errs)
				st, err := s.Import(ctx, strings.NewReader("phone,store\n"+phone(3)+","+tt.store+"\n"+phone(2)+","+tt.store+"\n"),
					member.ImportOptions{OnError: ew.Write})
				ew.Flush()
				if err != nil {
					t.Fatalf("Import: %v", err)
				}
				wantRejected, wantErrs := 0, "row,column,reason\n"
				if tt.refused {
					wantRejected = 2
					reason := `"no store ""` + tt.store + `"" in the store catalogue"`
					wantErrs += "2,store," + reason + "\n3,store," + reason + "\n"
				}
				if st.Rejected != wantRejected || errs.String() != wantErrs {
					t.Errorf("Import: %+v, errors:\n%s\nwant %d rejected, errors:\n%s", st, errs.String(), wantRejected, wantErrs)
				}
			})
		}
		// A member whose home store predates the catalogue (or left it) keeps
		// it through changes that do not touch it.
		t.Run("an unchanged old value is not checked again", func(t *testing.T) {
			if _, err := db.W.Exec(`DELETE FROM stores`); err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			s, _ := newService(t, db)
			m := enrol(t, s, member.EnrolRequest{Profile: member.Profile{Phone: "07400700010", HomeStore: "OLD1"}}).Member
			addStores(t, db, "S001")
			old, name := "OLD1", "Ann"
			got, err := s.Update(ctx, m.ID, member.Patch{FirstName: &name, HomeStore: &old})
			if err != nil || got.HomeStore != "OLD1" || got.FirstName != "Ann" {
				t.Fatalf("Update keeping the old store: %+v, %v", got, err)
			}
			st, err := s.Import(ctx, strings.NewReader("phone,store,last_name\n07400700010,OLD1,Lee\n"), member.ImportOptions{})
			if err != nil || st.Updated != 1 || st.Rejected != 0 {
				t.Fatalf("Import keeping the old store: %+v, %v", st, err)
			}
		})
	})
}
