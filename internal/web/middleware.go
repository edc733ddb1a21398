package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/problem"
)

// apiHandler is an API endpoint: it returns an error instead of writing one,
// so every failure goes through writeError.
type apiHandler func(w http.ResponseWriter, r *http.Request, key *auth.Key) error

// requestLog is what observe logs about a request that only the handlers
// below it learn: observe puts a pointer to one in the request's context,
// and they fill it in. A value of its own in the context would not do:
// authorize hands its handler a new request, whose context observe never
// sees.
type requestLog struct {
	keyID string // the API key that authenticated, if any
}

type requestLogKey struct{}

// requestLogOf returns the request's log record, or a throwaway one for a
// request that did not come through observe.
func requestLogOf(r *http.Request) *requestLog {
	if l, ok := r.Context().Value(requestLogKey{}).(*requestLog); ok {
		return l
	}
	return &requestLog{}
}

// authorize checks the bearer key and the permission, then runs h.
func (s *Server) authorize(perm auth.Permission, h apiHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		presented, bearer := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !bearer {
			presented = ""
		}
		key, ok := s.authenticate(w, r, presented)
		if !ok {
			return
		}
		if !key.Role.Allows(perm) {
			writeError(w, r, s.log, auth.ErrForbidden)
			return
		}
		if err := h(w, r, key); err != nil {
			writeError(w, r, s.log, err)
		}
	})
}

// authenticate resolves a presented key, answering 401 itself when there is
// none or it is unknown, and notes the key for the request log.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, presented string) (*auth.Key, bool) {
	if presented = strings.TrimSpace(presented); presented == "" {
		writeError(w, r, s.log, auth.ErrUnauthorized)
		return nil, false
	}
	key, err := s.keys.Authenticate(r.Context(), presented)
	if err != nil {
		writeError(w, r, s.log, err)
		return nil, false
	}
	requestLogOf(r).keyID = key.ID
	return key, true
}

func (s *Server) apiNotFound() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, s.log, problem.New(problem.NotFound, "no_such_endpoint", "no endpoint "+r.Method+" "+r.URL.Path))
	})
}

// statusWriter remembers the status code for logs and metrics.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe logs each request and feeds the request metrics. It logs the route
// pattern, never the path: paths can hold phone numbers and card tokens.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		info := &requestLog{}
		r = r.WithContext(context.WithValue(r.Context(), requestLogKey{}, info))
		sw := &statusWriter{ResponseWriter: w}
		securityHeaders(sw.Header())
		if err := checkRequestText(sw, r); err != nil {
			writeError(sw, r, s.log, err)
		} else {
			next.ServeHTTP(sw, r)
		}
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		elapsed := time.Since(start)
		s.metrics.requests.WithLabelValues(route, strconv.Itoa(sw.status)).Inc()
		s.metrics.latency.WithLabelValues(route).Observe(elapsed.Seconds())
		if route == "GET /metrics" || route == "GET /healthz" || route == "GET /readyz" {
			return
		}
		s.log.LogAttrs(r.Context(), levelFor(sw.status), "http request", slogAttrs(route, sw.status, elapsed, info.keyID)...)
	})
}
