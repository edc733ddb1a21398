package web

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/crm"
	"github.com/perk-platform/perk/internal/outfile"
	"github.com/perk-platform/perk/internal/problem"
)

// Headers of a CRM feed answer. The cursor is known before the first row;
// the count and the hash of the body come after the last, as trailers, so a
// client can tell a whole feed from a cut one as the manifest of perk crm
// export lets it.
const (
	HeaderCRMCursor = "Perk-Cursor"
	HeaderCRMRows   = "Perk-Rows"
	HeaderCRMSHA256 = "Perk-Sha256"
)

// crmFeed streams one CRM feed: GET /v1/crm/export/{feed}?since=&until=
// &format=csv|jsonl. The Perk-Cursor header is the cursor for the next call
// (since) and, to read the other feeds over the very same changes, their
// until.
func (s *Server) crmFeed(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	q := r.URL.Query()
	feed := r.PathValue("feed")
	if crm.Columns(feed) == nil {
		return crm.ErrUnknownFeed
	}
	format := outfile.CSV
	switch q.Get("format") {
	case "", "csv":
	case "jsonl":
		format = outfile.JSONL
	default:
		return problem.InvalidField("format", "format_invalid", nil, "want csv or jsonl")
	}
	wait := s.opt.CRMFeedWait
	if wait == 0 {
		wait = crm.DefaultWait
	}
	read, err := s.opt.CRMFeed.Open(r.Context(), crm.Range{Since: q.Get("since"), Until: q.Get("until"), Wait: wait})
	if err != nil {
		return err
	}
	defer read.Close()
	ctype := "text/csv; charset=utf-8"
	if format == outfile.JSONL {
		ctype = "application/x-ndjson"
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set(HeaderCRMCursor, read.Cursor)
	h.Set("Trailer", HeaderCRMRows+", "+HeaderCRMSHA256)
	w.WriteHeader(http.StatusOK)
	sum := sha256.New()
	rows, err := read.Write(r.Context(), feed, format, io.MultiWriter(w, sum))
	if err != nil {
		// The answer has begun: cut it, so the client sees a broken body
		// rather than a short feed that looks whole.
		s.log.ErrorContext(r.Context(), "crm feed cut", "feed", feed, "err", err)
		panic(http.ErrAbortHandler)
	}
	h.Set(HeaderCRMRows, strconv.FormatInt(rows, 10))
	h.Set(HeaderCRMSHA256, hex.EncodeToString(sum.Sum(nil)))
	return nil
}
