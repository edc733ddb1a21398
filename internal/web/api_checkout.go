package web

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/ledger"
	"github.com/perk-platform/perk/internal/problem"
)

// tillStore binds a till's request to the store of its key: a pos key may
// name only its own store (or none, meaning its own).
func tillStore(key *auth.Key, store *string) error {
	if key.Role != auth.RolePOS {
		return nil
	}
	if *store != "" && *store != key.Store {
		return &problem.Error{Kind: problem.Forbidden, Code: "store_mismatch", Field: "store",
			Message: "this till's key is bound to store " + key.Store}
	}
	*store = key.Store
	return nil
}

// bodyBuffers holds the buffers tills' baskets are read into.
var bodyBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// errReader fails every read with err.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// resolving runs a checkout under the till's look-up limit when it names a
// member; anonymous baskets resolve nobody.
func (s *Server) resolving(key *auth.Key, memberKey string, h func() error) error {
	if memberKey == "" {
		return h()
	}
	return s.limitLookups(key, h)
}

// checkoutRequest decodes a till's basket: the shape tills send in
// checkout.DecodeRequest's one pass, any other body as decodeJSON does
// (same bytes, same answer, same errors).
func (s *Server) checkoutRequest(w http.ResponseWriter, r *http.Request, key *auth.Key) (*checkout.Request, error) {
	buf := bodyBuffers.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 64<<10 {
			buf.Reset()
			bodyBuffers.Put(buf)
		}
	}()
	var req checkout.Request
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, maxJSONBody))
	switch fast, ok := checkout.DecodeRequest(buf.Bytes()); {
	case err != nil:
		// What was read, then the read's error, as decodeJSON meets them.
		err = decodeJSONFrom(io.MultiReader(bytes.NewReader(buf.Bytes()), errReader{err}), &req, maxJSONBody)
	case ok:
		req = fast
	default:
		err = decodeJSONFrom(bytes.NewReader(buf.Bytes()), &req, maxJSONBody)
	}
	if err != nil {
		return nil, err
	}
	if err := tillStore(key, &req.Store); err != nil {
		return nil, err
	}
	return &req, nil
}

func (s *Server) evaluate(w http.ResponseWriter, r *http.Request, key *auth.Key) error {
	req, err := s.checkoutRequest(w, r, key)
	if err != nil {
		return err
	}
	var resp *checkout.Response
	err = s.resolving(key, req.MemberKey(), func() (err error) {
		resp, err = s.opt.Checkout.Evaluate(r.Context(), req, r.URL.Query().Get("explain") == "true")
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

func (s *Server) commit(w http.ResponseWriter, r *http.Request, key *auth.Key) error {
	req, err := s.checkoutRequest(w, r, key)
	if err != nil {
		return err
	}
	var resp *checkout.Response
	err = s.resolving(key, req.MemberKey(), func() (err error) {
		resp, err = s.opt.Checkout.Commit(r.Context(), req)
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

func (s *Server) returnItems(w http.ResponseWriter, r *http.Request, key *auth.Key) error {
	var req checkout.ReturnRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := tillStore(key, &req.Store); err != nil {
		return err
	}
	resp, err := s.opt.Checkout.Return(r.Context(), &req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

func (s *Server) void(w http.ResponseWriter, r *http.Request, key *auth.Key) error {
	var req checkout.VoidRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := tillStore(key, &req.Store); err != nil {
		return err
	}
	resp, err := s.opt.Checkout.Void(r.Context(), &req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// memberLedger answers a member's balance and a page of their entries.
func (s *Server) memberLedger(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	m, err := s.lookup(r)
	if err != nil {
		return err
	}
	limit, err := intParam(r, "limit", 50)
	if err != nil {
		return err
	}
	bal, err := s.opt.Ledger.Balance(r.Context(), m.ID)
	if err != nil {
		return err
	}
	page, err := s.opt.Ledger.Entries(r.Context(), m.ID, ledger.Query{Limit: limit, Cursor: r.URL.Query().Get("cursor")})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"member_id": m.ID, "balance": bal, "entries": page.Entries, "next_cursor": page.NextCursor})
	return nil
}

func (s *Server) adjustPoints(w http.ResponseWriter, r *http.Request, key *auth.Key) error {
	var b struct {
		Points int64  `json:"points"`
		Reason string `json:"reason"`
	}
	if err := decodeJSON(w, r, &b); err != nil {
		return err
	}
	m, err := s.lookup(r)
	if err != nil {
		return err
	}
	e, err := s.opt.Ledger.Adjust(r.Context(), m.ID, b.Points, b.Reason, "api key "+key.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, e)
	return nil
}

func (s *Server) resolveMemberID(ctx context.Context, key string) (string, error) {
	m, err := s.members.Lookup(ctx, key)
	if err != nil {
		return "", err
	}
	return m.ID, nil
}
