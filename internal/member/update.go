package member

import (
	"context"
	"database/sql"
	"maps"
	"slices"

	"github.com/perk-platform/perk/internal/change"
	"github.com/perk-platform/perk/internal/phone"
	"github.com/perk-platform/perk/internal/problem"
)

// Patch changes some of a member's profile; nil fields stay as they are. In
// Attributes an empty value deletes the key; Tags replaces the whole set.
type Patch struct {
	Phone      *string           `json:"phone"`
	FirstName  *string           `json:"first_name"`
	LastName   *string           `json:"last_name"`
	Email      *string           `json:"email"`
	Birthday   *string           `json:"birthday"`
	HomeStore  *string           `json:"home_store"`
	ExternalID *string           `json:"external_id"`
	TimeZone   *string           `json:"timezone"`
	Locale     *string           `json:"locale"` // "" removes it: the programme's locale again
	Attributes map[string]string `json:"attributes"`
	Tags       *[]string         `json:"tags"`
}

// Update applies p to the member and returns the result. Changing the phone
// to one another member holds fails with ErrPhoneTaken.
func (s *Service) Update(ctx context.Context, memberID string, p Patch) (*Member, error) {
	now := nowUTC(s.opt.Now)
	var m *Member
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		m, err = liveMember(ctx, tx, memberID)
		if err != nil {
			return err
		}
		merged := profileOf(m)
		set := func(dst *string, src *string) {
			if src != nil {
				*dst = *src
			}
		}
		set(&merged.Phone, p.Phone)
		set(&merged.FirstName, p.FirstName)
		set(&merged.LastName, p.LastName)
		set(&merged.Email, p.Email)
		set(&merged.Birthday, p.Birthday)
		set(&merged.HomeStore, p.HomeStore)
		set(&merged.ExternalID, p.ExternalID)
		set(&merged.TimeZone, p.TimeZone)
		set(&merged.Locale, p.Locale)
		for k, v := range p.Attributes {
			merged.Attributes[AttributeKey(k)] = v
		}
		if p.Tags != nil {
			merged.Tags = *p.Tags
		}
		if p.Phone != nil && *p.Phone == "" {
			return problem.InvalidField("phone", "phone_invalid", nil, "cannot be removed; erase the member instead")
		}
		clean, err := merged.clean(s.opt.Region, now, true)
		if err != nil {
			return err
		}
		if clean.HomeStore != m.HomeStore {
			if err := checkHomeStore(ctx, tx, s.db.Dialect, clean.HomeStore); err != nil {
				return err
			}
		}
		before := profileOf(m)
		if !applyProfile(m, clean, true) {
			return nil
		}
		m.UpdatedAt = now
		if err := updateProfile(ctx, tx, m); err != nil {
			return err
		}
		return s.record(ctx, tx, change.Event{Type: change.MemberUpdated, MemberID: m.ID,
			Data: map[string]any{"changed": changedFields(before, profileOf(m))}})
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

func profileOf(m *Member) Profile {
	return Profile{
		Phone: string(m.Phone), FirstName: m.FirstName, LastName: m.LastName, Email: m.Email, Birthday: m.Birthday,
		HomeStore: m.HomeStore, ExternalID: m.ExternalID, TimeZone: m.TimeZone, Locale: m.Locale,
		Attributes: maps.Clone(m.Attributes), Tags: slices.Clone(m.Tags),
	}
}

// applyProfile copies the cleaned profile into m and reports whether anything
// changed. With all false only non-empty values are copied (an import file's
// blank cell keeps what the member has).
func applyProfile(m *Member, p Profile, all bool) bool {
	before := profileOf(m)
	take := func(dst *string, v string) {
		if all || v != "" {
			*dst = v
		}
	}
	ph := string(m.Phone)
	take(&ph, p.Phone)
	m.Phone = phone.Number(ph)
	take(&m.FirstName, p.FirstName)
	take(&m.LastName, p.LastName)
	take(&m.Email, p.Email)
	take(&m.Birthday, p.Birthday)
	take(&m.HomeStore, p.HomeStore)
	take(&m.ExternalID, p.ExternalID)
	take(&m.TimeZone, p.TimeZone)
	take(&m.Locale, p.Locale)
	if all {
		m.Attributes = p.Attributes
	} else {
		for k, v := range p.Attributes {
			m.Attributes[k] = v
		}
	}
	if all || len(p.Tags) > 0 {
		m.Tags = p.Tags
	}
	after := profileOf(m)
	return !sameProfile(before, after)
}

func sameProfile(a, b Profile) bool { return len(changedFields(a, b)) == 0 }

// changedFields names, by their JSON names, the fields that differ between
// two profiles: what a member.updated event reports (names, not values, so
// an event carries no personal data).
func changedFields(a, b Profile) []string {
	var out []string
	for _, f := range []struct {
		name string
		same bool
	}{
		{"phone", a.Phone == b.Phone}, {"first_name", a.FirstName == b.FirstName}, {"last_name", a.LastName == b.LastName},
		{"email", a.Email == b.Email}, {"birthday", a.Birthday == b.Birthday}, {"home_store", a.HomeStore == b.HomeStore},
		{"external_id", a.ExternalID == b.ExternalID}, {"timezone", a.TimeZone == b.TimeZone}, {"locale", a.Locale == b.Locale},
		{"attributes", maps.Equal(a.Attributes, b.Attributes)}, {"tags", slices.Equal(a.Tags, b.Tags)},
	} {
		if !f.same {
			out = append(out, f.name)
		}
	}
	return out
}
