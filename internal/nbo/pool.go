package nbo

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/problem"
)

// Offer is a candidate offer of the pool: what a member would be given
// (a benefit in the campaigns' vocabulary, scoped to categories or SKUs,
// valid from Start to End) and what each redemption costs the retailer
// beyond the margin it brings. Given to a member it becomes a personal
// offer (campaign.PersonalOffer), so the tills match it like any other.
type Offer struct {
	Name        string         `json:"name" yaml:"name"`
	Description string         `json:"description" yaml:"description"` // what the member is told
	Benefit     engine.Benefit `json:"benefit" yaml:"benefit"`         // kind, value and scope
	TimeZone    string         `json:"timezone,omitempty" yaml:"timezone,omitempty"`
	Start       string         `json:"start" yaml:"start"` // as in a campaign spec
	End         string         `json:"end" yaml:"end"`     // exclusive
	Uses        int            `json:"uses,omitempty" yaml:"uses,omitempty"`
	// Cost is what one redemption costs, in minor units (the discount or
	// the points' value, plus any fulfilment): the ranking subtracts it
	// from the margin the redemption brings.
	Cost int64 `json:"cost" yaml:"cost"`
}

// MaxPool bounds the pool: the ranking scores every offer on each request.
const MaxPool = 1000

var nameOK = regexp.MustCompile(`^[\p{L}\p{N}][\p{L}\p{N} _.,'&:!%£$€()/+-]{0,79}$`)

// Personal is the offer as the personal offer it becomes when given.
func (o Offer) Personal() campaign.PersonalOffer {
	return campaign.PersonalOffer{Description: o.Description, Benefit: o.Benefit, TimeZone: o.TimeZone,
		Start: o.Start, End: o.End, Uses: o.Uses}
}

// validate checks the offer as the campaign it would become is checked, so
// a bad offer fails when the pool is written rather than when it is given.
func (o *Offer) validate(field string) error {
	o.Name = strings.TrimSpace(o.Name)
	if !nameOK.MatchString(o.Name) {
		return problem.InvalidField(field+".name", "name_invalid", nil, "must be 1 to 80 letters, digits, spaces or punctuation, starting with a letter or digit")
	}
	if strings.TrimSpace(o.Description) == "" {
		return problem.InvalidField(field+".description", "required", nil, "is required: it is what the member is told")
	}
	if o.Cost < 0 || o.Cost > campaign.MaxBudget {
		return problem.InvalidField(field+".cost", "cost_invalid", nil, "must be 0 to %d minor units", int64(campaign.MaxBudget))
	}
	if o.Uses < 0 {
		return problem.InvalidField(field+".uses", "uses_invalid", nil, "must be 0 (single use) or more")
	}
	if o.Benefit.ID != "" {
		return problem.InvalidField(field+".benefit.id", "id_unexpected", nil, "is set by Perk")
	}
	spec := o.Personal().Spec()
	if _, _, err := spec.Validate(nil); err != nil {
		var pe *problem.Error
		if errors.As(err, &pe) && pe.Field != "" {
			f := strings.Replace(pe.Field, "benefits[0]", "benefit", 1)
			return problem.InvalidField(field+"."+f, pe.Code, err, "%s", pe.Message)
		}
		return err
	}
	return nil
}

// Pool returns the pool's offers by name.
func (s *Service) Pool(ctx context.Context) ([]Offer, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT spec FROM nbo_offers ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("nbo: read pool: %w", err)
	}
	defer rows.Close()
	out := []Offer{}
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return nil, err
		}
		var o Offer
		if err := json.Unmarshal([]byte(body), &o); err != nil {
			return nil, fmt.Errorf("nbo: stored offer: %w", err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// Applied counts what writing the pool did.
type Applied struct {
	Created   int `json:"created"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
	Deleted   int `json:"deleted"`
}

// PutPool writes offers into the pool by name in one transaction: new ones
// are created, changed ones updated, identical ones left alone, so writing
// the same offers again changes nothing. With replace, offers not named
// are deleted (the pool becomes exactly offers). Offers already given stay
// given: they live on as personal-offer campaigns.
func (s *Service) PutPool(ctx context.Context, offers []Offer, replace bool) (*Applied, error) {
	if len(offers) > MaxPool {
		return nil, problem.InvalidField("offers", "too_many", nil, "a pool holds at most %d offers", MaxPool)
	}
	seen := map[string]bool{}
	bodies := make([]string, len(offers))
	for i := range offers {
		field := fmt.Sprintf("offers[%d]", i)
		if err := offers[i].validate(field); err != nil {
			return nil, err
		}
		if seen[offers[i].Name] {
			return nil, problem.InvalidField(field+".name", "name_repeated", nil, "%q is named twice", offers[i].Name)
		}
		seen[offers[i].Name] = true
		b, err := json.Marshal(offers[i])
		if err != nil {
			return nil, err
		}
		bodies[i] = string(b)
	}
	out := &Applied{}
	now := s.now()
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		stored := map[string]string{}
		rows, err := tx.QueryContext(ctx, `SELECT name, spec FROM nbo_offers`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var n, b string
			if err := rows.Scan(&n, &b); err != nil {
				rows.Close()
				return err
			}
			stored[n] = b
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for i, o := range offers {
			old, ok := stored[o.Name]
			switch {
			case !ok:
				_, err = tx.ExecContext(ctx, `INSERT INTO nbo_offers (name, spec, created_at, updated_at) VALUES ($1, $2, $3, $3)`, o.Name, bodies[i], now)
				out.Created++
			case old != bodies[i]:
				_, err = tx.ExecContext(ctx, `UPDATE nbo_offers SET spec = $2, updated_at = $3 WHERE name = $1`, o.Name, bodies[i], now)
				out.Updated++
			default:
				out.Unchanged++
			}
			if err != nil {
				return err
			}
		}
		if !replace {
			return nil
		}
		for _, n := range slices.Sorted(maps.Keys(stored)) {
			if seen[n] {
				continue
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM nbo_offers WHERE name = $1`, n); err != nil {
				return err
			}
			out.Deleted++
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("nbo: write pool: %w", err)
	}
	s.invalidate()
	return out, nil
}

// Pool files are what `perk nbo pool apply -f` reads: YAML (or JSON, which
// is YAML) holding a list of offers, or a mapping with the list under
// "offers"; unknown fields are refused so a typo fails loudly.
type poolFile struct {
	Offers []Offer `yaml:"offers"`
}

// ParseFile reads a pool file.
func ParseFile(r io.Reader) ([]Offer, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	var probe any
	if err := yaml.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("pool file: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if _, isList := probe.([]any); isList {
		var list []Offer
		if err := dec.Decode(&list); err != nil {
			return nil, fmt.Errorf("pool file: %w", err)
		}
		return list, nil
	}
	var f poolFile
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("pool file: %w", err)
	}
	return f.Offers, nil
}
