package client

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"strconv"
)

// Feeds of the CRM export (docs/integration.md#what-flows-back-the-crm-feed).
const (
	FeedMembers      = "members"
	FeedConsents     = "consents"
	FeedTransactions = "transactions"
	FeedLines        = "lines"
	FeedRedemptions  = "redemptions"
	FeedReturns      = "returns"
	FeedPoints       = "points"
	FeedMessages     = "messages"
)

// FeedRead is what reading a CRM feed gave: the cursor for the next read
// (since) or for the other feeds over the same changes (until), and the
// rows written.
type FeedRead struct {
	Cursor string
	Rows   int64
}

// Feed copies one CRM feed as CSV (jsonl: JSON Lines) to w: the changes
// after since ("" = every change) up to until ("" = all that is final now).
// It checks the body against the row count and SHA-256 the server sends
// after it, so a cut answer is an error, never a short feed.
func (c *Client) Feed(ctx context.Context, feed, since, until string, jsonl bool, w io.Writer) (*FeedRead, error) {
	q := url.Values{}
	if since != "" {
		q.Set("since", since)
	}
	if until != "" {
		q.Set("until", until)
	}
	if jsonl {
		q.Set("format", "jsonl")
	}
	path := "/v1/crm/export/" + url.PathEscape(feed) + "?" + q.Encode()
	res, err := c.do(ctx, "GET", path, "", nil)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	sum := sha256.New()
	if _, err := io.Copy(io.MultiWriter(w, sum), res.Body); err != nil {
		return nil, fmt.Errorf("perk: feed %s: %w", feed, err)
	}
	rows, err := strconv.ParseInt(res.Trailer.Get("Perk-Rows"), 10, 64)
	if err != nil || res.Trailer.Get("Perk-Sha256") != hex.EncodeToString(sum.Sum(nil)) {
		return nil, fmt.Errorf("perk: feed %s: the answer is not whole (its count or SHA-256 is missing or wrong)", feed)
	}
	return &FeedRead{Cursor: res.Header.Get("Perk-Cursor"), Rows: rows}, nil
}
