package campaign

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
)

// Applied says what Apply did with a spec.
type Applied string

// What Apply did.
const (
	Created    Applied = "created"    // no campaign had the name
	Configured Applied = "configured" // the campaign of that name was updated
	Unchanged  Applied = "unchanged"  // the campaign of that name already had this spec
)

// Apply makes the campaign named in spec have that spec, the way `perk
// campaigns apply` keeps campaigns as files, identified by name: it creates
// a draft when no campaign has the name, leaves the campaign alone when its
// spec is the same (SameSpec), and otherwise updates it, guarded by the
// version it read. It returns the campaign and what it did; its errors are
// Create's and Update's.
func (s *Service) Apply(ctx context.Context, spec Spec) (*Campaign, Applied, error) {
	cur, err := s.ByName(ctx, spec.Name)
	switch {
	case errors.Is(err, ErrNotFound):
		c, err := s.Create(ctx, spec)
		return c, Created, err
	case err != nil:
		return nil, "", err
	case SameSpec(cur.Spec, spec):
		return cur, Unchanged, nil
	}
	c, err := s.Update(ctx, cur.ID, spec, cur.Version)
	return c, Configured, err
}

// SameSpec reports whether two specs are stored the same (as JSON), so that
// an empty list in a file and a missing one in the database are the same.
func SameSpec(a, b Spec) bool {
	ja, err1 := json.Marshal(a.normal())
	jb, err2 := json.Marshal(b.normal())
	return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
}

// normal is the spec as stored: no benefits is one thing (a
// next_best_offer campaign has none), whether a file wrote "benefits: []"
// or left it out.
func (s Spec) normal() Spec {
	if len(s.Benefits) == 0 {
		s.Benefits = nil
	}
	return s
}
