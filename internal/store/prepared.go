package store

import (
	"context"
	"database/sql"
	"sync"
)

// Prepared runs fixed queries on the read pool as prepared statements,
// prepared once per connection and kept. SQLite otherwise parses every
// statement on every call: under till load that was over a third of the
// server's CPU. (pgx caches statements itself; on PostgreSQL this costs
// nothing.) Only queries whose text is a constant belong here: every
// distinct text is kept for the life of the pool.
type Prepared struct {
	db    *sql.DB
	mu    sync.Mutex // guards stmts
	stmts map[string]*sql.Stmt
}

func newPrepared(db *sql.DB) *Prepared { return &Prepared{db: db, stmts: map[string]*sql.Stmt{}} }

func (p *Prepared) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if st, ok := p.stmts[query]; ok {
		return st, nil
	}
	st, err := p.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	p.stmts[query] = st
	return st, nil
}

// QueryRowContext runs a query expected to return at most one row.
func (p *Prepared) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := p.stmt(ctx, query)
	if err != nil {
		return p.db.QueryRowContext(ctx, query, args...) // reports the same error through Scan
	}
	return st.QueryRowContext(ctx, args...)
}

// QueryContext runs a query returning rows.
func (p *Prepared) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := p.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// ExecContext is here so Prepared stands in for a read pool where an
// interface asks for it; the read pool refuses writes.
func (p *Prepared) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return p.db.ExecContext(ctx, query, args...)
}

func (p *Prepared) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, st := range p.stmts {
		st.Close()
	}
	p.stmts = map[string]*sql.Stmt{}
}
