package store

import (
	"container/list"
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
)

// SQLite statement cache. modernc's SQLite parses and plans every statement
// that database/sql hands it through Exec or Query, and throws the plan away
// after one use: in a transaction file's chunk that was a quarter of the CPU,
// in a till commit a fifth. database/sql's own prepared statements do not
// help inside transactions (a Stmt is prepared again on each transaction's
// connection and closed with it: a trial of that cost more than it saved).
// So each SQLite connection keeps the statements it has run, by text, and
// runs them again with new arguments: bind, step, reset. PostgreSQL needs
// none of this: pgx caches statements per connection itself.
//
// What the cache must not change: a statement in use (rows still open) is
// never handed out a second time (a second, uncached one runs instead); a
// statement that fails is dropped, so nothing odd survives an error; the
// cache is bounded, least recently used out first, since multi-row
// statements have a text per row count.

// stmtCacheSize is the statements a connection keeps. The till's commit, the
// journey runner and a chunk of a transaction file together run about 150
// distinct texts.
const stmtCacheSize = 400

// cachingConnector opens connections that keep their statements.
type cachingConnector struct {
	driver.Connector
}

// Connect opens a connection of the wrapped connector and gives it a cache.
func (c cachingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	inner, ok := conn.(sqliteConn)
	if !ok {
		conn.Close()
		return nil, fmt.Errorf("store: statement cache: connection %T lacks the context methods", conn)
	}
	return &cachingConn{sqliteConn: inner, stmts: map[string]*list.Element{}, lru: list.New()}, nil
}

// sqliteConn is what every modernc connection implements and the cache
// forwards (see modernc.org/sqlite NewConnector).
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// cachedStmt is one kept statement.
type cachedStmt struct {
	query string
	st    driver.Stmt
	busy  bool // its rows are open
}

// cachingConn is a connection with a statement cache. database/sql uses a
// connection from one goroutine at a time, so it needs no lock.
type cachingConn struct {
	sqliteConn
	stmts map[string]*list.Element // of *cachedStmt
	lru   *list.List               // most recently used first
}

// Unwrap gives modernc's own connection (sqlite.Limit looks through it).
func (c *cachingConn) Unwrap() driver.Conn { return c.sqliteConn }

// stmt returns the kept statement for query, preparing and keeping it if
// need be; nil (and no error) when the kept one is busy.
func (c *cachingConn) stmt(ctx context.Context, query string) (*cachedStmt, error) {
	if e, ok := c.stmts[query]; ok {
		cs := e.Value.(*cachedStmt)
		if cs.busy {
			return nil, nil
		}
		c.lru.MoveToFront(e)
		return cs, nil
	}
	st, err := c.sqliteConn.PrepareContext(ctx, positional(query))
	if err != nil {
		return nil, err
	}
	cs := &cachedStmt{query: query, st: st}
	c.stmts[query] = c.lru.PushFront(cs)
	for c.lru.Len() > stmtCacheSize {
		old := c.lru.Back()
		if old.Value.(*cachedStmt).busy {
			break // in use: dropped later
		}
		c.drop(old)
	}
	return cs, nil
}

// drop closes a kept statement and forgets it.
func (c *cachingConn) drop(e *list.Element) error {
	cs := e.Value.(*cachedStmt)
	c.lru.Remove(e)
	delete(c.stmts, cs.query)
	return cs.st.Close()
}

// forget drops cs if it is still the kept statement for its text.
func (c *cachingConn) forget(cs *cachedStmt) {
	if e, ok := c.stmts[cs.query]; ok && e.Value.(*cachedStmt) == cs {
		c.drop(e)
	}
}

// PrepareContext prepares query for database/sql's own prepared
// statements, which the connection does not keep.
func (c *cachingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.sqliteConn.PrepareContext(ctx, positional(query))
}

// Prepare is PrepareContext without a context.
func (c *cachingConn) Prepare(query string) (driver.Stmt, error) {
	return c.sqliteConn.Prepare(positional(query))
}

// ExecContext runs query on its kept statement.
func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	cs, err := c.stmt(ctx, query)
	if err != nil || cs == nil {
		return c.sqliteConn.ExecContext(ctx, positional(query), args)
	}
	res, err := cs.st.(driver.StmtExecContext).ExecContext(ctx, args)
	if err != nil {
		c.forget(cs)
	}
	return res, err
}

// QueryContext runs query on its kept statement; the statement is busy
// until its rows are closed.
func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	cs, err := c.stmt(ctx, query)
	if err != nil || cs == nil {
		return c.sqliteConn.QueryContext(ctx, positional(query), args)
	}
	cs.busy = true
	rows, err := cs.st.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		cs.busy = false
		c.forget(cs)
		return nil, err
	}
	return &cachedRows{rowsWithTypes: rows.(rowsWithTypes), c: c, cs: cs}, nil
}

// Close closes every kept statement, then the connection.
func (c *cachingConn) Close() error {
	var errs []error
	for c.lru.Len() > 0 {
		errs = append(errs, c.drop(c.lru.Front()))
	}
	return errors.Join(append(errs, c.sqliteConn.Close())...)
}

// rowsWithTypes is what modernc's rows implement and database/sql asks of
// rows (ColumnTypes).
type rowsWithTypes interface {
	driver.Rows
	driver.RowsColumnTypeDatabaseTypeName
	driver.RowsColumnTypeLength
	driver.RowsColumnTypeNullable
	driver.RowsColumnTypePrecisionScale
	driver.RowsColumnTypeScanType
}

// cachedRows are the rows of a kept statement: closing them resets the
// statement (modernc does) and frees it for the next use.
type cachedRows struct {
	rowsWithTypes
	c  *cachingConn
	cs *cachedStmt
}

// Close closes the rows and frees their statement.
func (r *cachedRows) Close() error {
	err := r.rowsWithTypes.Close()
	r.cs.busy = false
	if err != nil {
		r.c.forget(r.cs)
	}
	return err
}
