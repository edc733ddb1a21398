package catalogue

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/perk-platform/perk/internal/problem"
)

// Store states as stored.
const (
	statusOpen   = "open"
	statusClosed = "closed"
)

// clean checks a store and trims its text; field prefixes the fields named
// in errors ("stores[3]." for an item of a list, "" for one store).
func (s *Store) clean(field string) error {
	s.ID, s.Name = strings.TrimSpace(s.ID), strings.TrimSpace(s.Name)
	s.Region, s.Address = strings.TrimSpace(s.Region), strings.TrimSpace(s.Address)
	if err := checkText(field+"id", s.ID, true, 100); err != nil {
		return err
	}
	if err := checkText(field+"name", s.Name, true, 200); err != nil {
		return err
	}
	if err := checkText(field+"region", s.Region, false, 100); err != nil {
		return err
	}
	if err := checkText(field+"address", s.Address, false, 500); err != nil {
		return err
	}
	s.Timezone = strings.TrimSpace(s.Timezone)
	if s.Timezone == "" {
		return problem.InvalidField(field+"timezone", "required", nil, "is required (an IANA zone such as Europe/London)")
	}
	loc, err := time.LoadLocation(s.Timezone)
	if err != nil || strings.EqualFold(s.Timezone, "local") {
		return problem.InvalidField(field+"timezone", "timezone_invalid", nil, "%q is not an IANA time zone", s.Timezone)
	}
	s.loc = loc
	return nil
}

// checkText refuses an empty required value, a too long one and control
// characters.
func checkText(field, v string, required bool, max int) error {
	if v == "" {
		if required {
			return problem.InvalidField(field, "required", nil, "is required")
		}
		return nil
	}
	if len(v) > max || !utf8.ValidString(v) || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 && r != '\n' || r == 0x7f }) {
		return problem.InvalidField(field, "text_invalid", nil, "must be at most %d printable characters", max)
	}
	return nil
}

// PutStores creates or replaces stores, all or none: the first invalid one
// is refused with its field ("stores[i].timezone").
func (c *Catalogue) PutStores(ctx context.Context, stores []Store) error {
	for i := range stores {
		if err := stores[i].clean(fmt.Sprintf("stores[%d].", i)); err != nil {
			return err
		}
	}
	return c.write(ctx, func(tx *sql.Tx, now time.Time) error {
		for _, s := range stores {
			if err := putStore(ctx, tx, &s, now); err != nil {
				return err
			}
		}
		return nil
	})
}

// PutStore creates or replaces one store.
func (c *Catalogue) PutStore(ctx context.Context, s Store) error {
	if err := s.clean(""); err != nil {
		return err
	}
	return c.write(ctx, func(tx *sql.Tx, now time.Time) error { return putStore(ctx, tx, &s, now) })
}

func putStore(ctx context.Context, tx *sql.Tx, s *Store, now time.Time) error {
	status := statusOpen
	if s.Closed {
		status = statusClosed
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO stores (id, name, timezone, region, address, status, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, timezone = excluded.timezone, region = excluded.region,
			address = excluded.address, status = excluded.status, updated_at = excluded.updated_at`,
		s.ID, s.Name, s.Timezone, s.Region, s.Address, status, now)
	if err != nil {
		return fmt.Errorf("put store %s: %w", s.ID, err)
	}
	return nil
}

// DeleteStore removes a store; its past baskets keep its id. ErrStoreNotFound
// if there is none.
func (c *Catalogue) DeleteStore(ctx context.Context, id string) error {
	return c.write(ctx, func(tx *sql.Tx, _ time.Time) error {
		r, err := tx.ExecContext(ctx, `DELETE FROM stores WHERE id = $1`, id)
		if err != nil {
			return fmt.Errorf("delete store: %w", err)
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return ErrStoreNotFound
		}
		return nil
	})
}

// write runs fn in a transaction that also bumps the catalogue version, then
// reloads this instance's snapshot, so a till served here sees the change at
// once.
func (c *Catalogue) write(ctx context.Context, fn func(tx *sql.Tx, now time.Time) error) error {
	if err := c.tx(ctx, fn); err != nil {
		return err
	}
	if _, err := c.refresh(ctx, false); err != nil {
		return fmt.Errorf("catalogue reload: %w", err)
	}
	return nil
}

// tx runs fn in a transaction that also bumps the catalogue version.
func (c *Catalogue) tx(ctx context.Context, fn func(tx *sql.Tx, now time.Time) error) error {
	now := c.opt.Now().UTC()
	return c.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := fn(tx, now); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE catalogue_version SET version = version + 1 WHERE id = 1`); err != nil {
			return fmt.Errorf("catalogue version: %w", err)
		}
		return nil
	})
}
