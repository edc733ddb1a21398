// Package client is a small Go client for Perk's HTTP API, for EPoS and CRM
// integrators: the till's calls (evaluate, commit, return, void) and the
// CRM's (enrol, look up, sync the subset, give personal offers).
//
// Its request and answer types are the server's own (aliases of the types
// the API decodes and encodes), so the client cannot drift from the server
// it is built with. docs/integration.md walks through both integrations.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/checkout/engine"
)

// The till's request and answer types.
type (
	// Basket is the body of evaluate and commit.
	Basket = checkout.Request
	// Item is one basket line.
	Item = checkout.Item
	// Result is what evaluate and commit answer: the lines, the benefits,
	// the totals and the member's points.
	Result = checkout.Response
	// Return is the body of a return of committed lines.
	Return = checkout.ReturnRequest
	// ReturnItem is a quantity of one committed line coming back.
	ReturnItem = checkout.ReturnItem
	// Void is the body of a void of a whole committed basket.
	Void = checkout.VoidRequest
	// Returned is what a return or a void answers.
	Returned = checkout.ReturnResponse
	// PersonalOffer is an offer a CRM gives to members it names.
	PersonalOffer = campaign.PersonalOffer
	// Benefit is what an offer gives: its kind, value and scope.
	Benefit = engine.Benefit
	// Scope is the SKUs and categories a benefit applies to.
	Scope = engine.Scope
	// Conditions are an offer's minimum basket, days and hours.
	Conditions = engine.Conditions
)

// Kinds of benefit (docs/checkout-rules.md).
const (
	PercentOff       = engine.PercentOff
	AmountOff        = engine.AmountOff
	FixedPrice       = engine.FixedPrice
	BuyXGetY         = engine.BuyXGetY
	SpendThreshold   = engine.SpendThreshold
	PointsBonus      = engine.PointsBonus
	PointsPerUnit    = engine.PointsPerUnit
	PointsMultiplier = engine.PointsMultiplier
	FreeContent      = engine.FreeContent
)

// Key makes a member key for Basket.Member: a code, a phone, a member id,
// or a CRM id as "ext:CRM-5" (see External). "" is an anonymous basket.
func Key(s string) *string { return checkout.Key(s) }

// External is the member key of a CRM id.
func External(crmID string) string { return "ext:" + crmID }

// Error is an answer of the API other than a success: its HTTP status and
// the error body every Perk error has.
type Error struct {
	Status  int
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

func (e *Error) Error() string {
	s := fmt.Sprintf("perk: %d %s: %s", e.Status, e.Code, e.Message)
	if e.Field != "" {
		s += " (field " + e.Field + ")"
	}
	return s
}

// Client calls one Perk server with one API key.
type Client struct {
	base string
	key  string
	http *http.Client
}

// New returns a client of the server at baseURL (e.g.
// "https://perk.example.com") with an API key. A till's key has the pos
// role; a CRM's, manager. hc may be nil: a client with a 10 s timeout.
func New(baseURL, key string, hc *http.Client) *Client {
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	return &Client{base: strings.TrimRight(baseURL, "/"), key: key, http: hc}
}

// Evaluate asks what a basket would get, changing nothing.
func (c *Client) Evaluate(ctx context.Context, b *Basket) (*Result, error) {
	var r Result
	return &r, c.call(ctx, "POST", "/v1/checkout/evaluate", "application/json", b, &r)
}

// Commit records a paid basket. It is idempotent by store and transaction
// id: a till that lost the answer sends the same basket again and gets the
// same answer.
func (c *Client) Commit(ctx context.Context, b *Basket) (*Result, error) {
	var r Result
	return &r, c.call(ctx, "POST", "/v1/checkout/commit", "application/json", b, &r)
}

// Return records lines of a committed basket coming back.
func (c *Client) Return(ctx context.Context, r *Return) (*Returned, error) {
	var out Returned
	return &out, c.call(ctx, "POST", "/v1/checkout/return", "application/json", r, &out)
}

// Void cancels a whole committed basket.
func (c *Client) Void(ctx context.Context, v *Void) (*Returned, error) {
	var out Returned
	return &out, c.call(ctx, "POST", "/v1/checkout/void", "application/json", v, &out)
}

// Member is a member as the API shows them.
type Member struct {
	ID         string   `json:"id"`
	Code       string   `json:"code"`
	Phone      string   `json:"phone"`
	FirstName  string   `json:"first_name"`
	ExternalID string   `json:"external_id"`
	Status     string   `json:"status"`
	Tags       []string `json:"tags"`
	CardURL    string   `json:"card_url"`
}

// Member returns a member by key (a code, phone, id or External(crmID)).
func (c *Client) Member(ctx context.Context, key string) (*Member, error) {
	var m Member
	return &m, c.call(ctx, "GET", "/v1/members/"+url.PathEscape(key), "", nil, &m)
}

// SyncResult is what a CRM subset sync answers.
type SyncResult struct {
	Stats struct {
		Rows       int `json:"rows"`
		Created    int `json:"created"`
		Updated    int `json:"updated"`
		Unchanged  int `json:"unchanged"`
		Rejected   int `json:"rejected"`
		LeftSubset int `json:"left_subset"`
	} `json:"stats"`
	Errors []struct {
		Row    int    `json:"row"`
		Column string `json:"column"`
		Reason string `json:"reason"`
	} `json:"errors"`
}

// SyncSubset upserts the CRM subset from a member file (CSV or TSV keyed by
// external_id); full makes the file the whole subset.
func (c *Client) SyncSubset(ctx context.Context, file io.Reader, full bool) (*SyncResult, error) {
	var r SyncResult
	return &r, c.call(ctx, "PUT", fmt.Sprintf("/v1/crm/members?full=%t", full), "text/csv", file, &r)
}

// Given is what giving a personal offer answers.
type Given struct {
	Campaign struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	} `json:"campaign"`
	Added     int `json:"added"`
	Already   int `json:"already"`
	Control   int `json:"control"`
	Announced int `json:"announced"`
	Errors    []struct {
		Index  int    `json:"index"`
		Member string `json:"member"`
		Code   string `json:"code"`
		Reason string `json:"reason"`
	} `json:"errors"`
}

// GiveOffer gives a personal offer to members (keys; External(crmID) for
// CRM ids), announcing it by SMS if announce is set.
func (c *Client) GiveOffer(ctx context.Context, o PersonalOffer, members []string, announce bool) (*Given, error) {
	var g Given
	body := map[string]any{"offer": o, "members": members, "announce": announce}
	return &g, c.call(ctx, "POST", "/v1/crm/offers", "application/json", body, &g)
}

// call sends one request and decodes the answer into out, or the error body
// into an *Error.
func (c *Client) call(ctx context.Context, method, path, contentType string, body, out any) error {
	res, err := c.do(ctx, method, path, contentType, body)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(out); err != nil {
		return fmt.Errorf("perk: %s %s: decode the answer: %w", method, path, err)
	}
	return nil
}

// do sends one request and returns a successful answer, whose body the
// caller closes, or the error body as an *Error.
func (c *Client) do(ctx context.Context, method, path, contentType string, body any) (*http.Response, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case io.Reader:
		rd = b
	default:
		j, err := json.Marshal(b)
		if err != nil {
			return nil, fmt.Errorf("perk: encode %s %s: %w", method, path, err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, fmt.Errorf("perk: %s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("perk: %s %s: %w", method, path, err)
	}
	if res.StatusCode >= 300 {
		defer res.Body.Close()
		var e struct {
			Error Error `json:"error"`
		}
		if err := json.NewDecoder(res.Body).Decode(&e); err != nil || e.Error.Code == "" {
			return nil, &Error{Status: res.StatusCode, Code: "http_error", Message: res.Status}
		}
		e.Error.Status = res.StatusCode
		return nil, &e.Error
	}
	return res, nil
}
