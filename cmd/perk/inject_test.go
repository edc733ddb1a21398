package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLI_InjectSaysWhatItQueuedWithTheServersLinks: perk sms inject prints
// the member a JOIN made and that the welcome was queued, and the welcome's
// card link is built from the server's settings (--public-url, else
// http://ADDR), read from its --config file, never a built-in :8080.
func TestCLI_InjectSaysWhatItQueuedWithTheServersLinks(t *testing.T) {
	for _, c := range []struct {
		name, conf, link string
	}{
		{"public URL from the config file", "PERK_PUBLIC_URL=https://perk.shop.example\nPERK_ADDR=127.0.0.1:9123\n", "https://perk.shop.example/c/"},
		{"listen address from the config file", "PERK_ADDR=127.0.0.1:9123\n", "http://127.0.0.1:9123/c/"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			conf := filepath.Join(dir, "perk.conf")
			if err := os.WriteFile(conf, []byte("PERK_DATA_DIR="+dir+"\nPERK_LOG_LEVEL=warn\n"+c.conf), 0o600); err != nil {
				t.Fatal(err)
			}
			out, stderr, err := perk(t, nil, "sms", "inject", "--config", conf, "--from", "07700 900123", "JOIN Zoe")
			if err != nil {
				t.Fatalf("inject: %v\n%s", err, stderr)
			}
			if !strings.Contains(out, "keyword JOIN, member mem_") || !strings.HasSuffix(out, "reply queued: true\n") {
				t.Fatalf("inject printed %q, want the new member and reply queued: true", out)
			}
			out, _, _ = perk(t, nil, "sms", "outbox", "--config", conf)
			if !strings.Contains(out, "welcome") || !strings.Contains(out, c.link) || strings.Contains(out, ":8080") {
				t.Fatalf("the welcome's card link is not under %s:\n%s", c.link, out)
			}
		})
	}
}
