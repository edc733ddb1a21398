package loadgen

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// nextPhone returns a number no other request of this run has used, in E.164
// so the request does not depend on the server's default region.
func (r *runner) nextPhone() string {
	i := r.start + r.phones.Add(1) - 1
	var b [11]byte
	n := appendMobile(b[:0], phonesForAPI, i)
	return "+44" + string(n[1:]) // the national "0" gives way to the country code
}

// enrolRequest builds POST /v1/members for a fresh phone.
func (r *runner) enrolRequest(ctx context.Context) (*http.Request, error) {
	body := `{"phone":"` + r.nextPhone() + `","first_name":"Load","consent":{"sms":true,"source":"bench"}}`
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.base+"/v1/members", strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	r.authorize(req)
	return req, nil
}

// lookupRequest builds GET /v1/members/{code}.
func (r *runner) lookupRequest(ctx context.Context, code string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.base+"/v1/members/"+url.PathEscape(code), nil)
	if err != nil {
		return nil, err
	}
	r.authorize(req)
	return req, nil
}

func (r *runner) authorize(req *http.Request) {
	if r.opts.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+r.opts.APIKey)
	}
}

// checked sends an unmeasured request and returns its body, or an error
// naming the request, the status and the start of the body when the answer
// is not 2xx.
func (r *runner) checked(ctx context.Context, build func(context.Context) (*http.Request, error)) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	req, err := build(ctx)
	if err != nil {
		return nil, err
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	// Bodies here are one member; the cap only stops a misbehaving server.
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("%s %s: status %d: %s", req.Method, req.URL.Path, resp.StatusCode, snippet(body))
	}
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading body: %w", req.Method, req.URL.Path, err)
	}
	return body, nil
}

// snippet shortens a response body for an error message.
func snippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	if s == "" {
		s = "(empty body)"
	}
	return s
}

// enrolOnce enrols one member and returns its code.
func (r *runner) enrolOnce(ctx context.Context) (string, error) {
	body, err := r.checked(ctx, r.enrolRequest)
	if err != nil {
		return "", err
	}
	var m struct {
		Code string `json:"code"`
	}
	if err := json.Unmarshal(body, &m); err != nil || m.Code == "" {
		return "", fmt.Errorf("POST /v1/members: no member code in answer: %s", snippet(body))
	}
	return m.Code, nil
}

// probeLookup checks that a given code can be fetched before measuring.
func (r *runner) probeLookup(ctx context.Context, code string) error {
	_, err := r.checked(ctx, func(ctx context.Context) (*http.Request, error) { return r.lookupRequest(ctx, code) })
	return err
}

// setup enrols n members with up to Concurrency workers and returns their
// codes. The first failure cancels the rest, so a bad key costs one round
// trip per worker, not n.
func (r *runner) setup(ctx context.Context, n int) ([]string, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	codes := make([]string, n)
	var (
		next     = make(chan int)
		once     sync.Once
		firstErr error
		wg       sync.WaitGroup
	)
	for range min(r.opts.Concurrency, n) {
		wg.Go(func() {
			for i := range next {
				if ctx.Err() != nil { // another worker failed: send nothing more
					return
				}
				code, err := r.enrolOnce(ctx)
				if err != nil {
					once.Do(func() { firstErr = fmt.Errorf("enrolling %d members: %w", n, err); cancel() })
					return
				}
				codes[i] = code
			}
		})
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return codes, ctx.Err()
}
