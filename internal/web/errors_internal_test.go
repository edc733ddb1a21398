package web

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
)

// A request whose client hung up is recorded as 499, not logged as a server
// failure; the same error while the client still waits is a 500 with its
// detail logged.
func TestWriteError_AClientThatHungUpIsNotAServerFailure(t *testing.T) {
	for _, tc := range []struct {
		say      string
		hungUp   bool
		status   int
		errorLog bool
	}{
		{"the client hung up", true, 499, false},
		{"the client still waits", false, 500, true},
	} {
		ctx, cancel := context.WithCancel(context.Background())
		if tc.hungUp {
			cancel()
		}
		var logs bytes.Buffer
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", "/v1/events", nil).WithContext(ctx)
		writeError(rec, req, slog.New(slog.NewTextHandler(&logs, nil)), fmt.Errorf("store: begin: %w", context.Canceled))
		cancel()
		if rec.Code != tc.status || strings.Contains(logs.String(), "level=ERROR") != tc.errorLog {
			t.Errorf("%s: status %d, logged %q; want %d, error logged %v", tc.say, rec.Code, logs.String(), tc.status, tc.errorLog)
		}
	}
}
