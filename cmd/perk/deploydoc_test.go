package main

import (
	"bytes"
	"database/sql"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// docBlocks returns the shell blocks of docs/deploy.md marked
// <!-- deploy-test: NAME -->, by name.
func docBlocks(t *testing.T) map[string]string {
	t.Helper()
	re := regexp.MustCompile("(?s)<!-- deploy-test: ([a-z-]+) -->\n```sh\n(.*?)```")
	blocks := map[string]string{}
	for _, m := range re.FindAllStringSubmatch(readRepoFile(t, "docs/deploy.md"), -1) {
		blocks[m[1]] = m[2]
	}
	return blocks
}

// deployHost stands in for a machine set up as docs/deploy.md says: the
// system's folders under a temporary root, and sudo, systemctl and chown
// replaced by scripts that run the command as this user or write down what
// they were asked.
type deployHost struct {
	root, bin string
	paths     *strings.Replacer
}

func newDeployHost(t *testing.T) *deployHost {
	t.Helper()
	h := &deployHost{root: t.TempDir()}
	h.bin = filepath.Join(h.root, "bin")
	var pairs []string
	for _, p := range []string{"/etc/perk", "/var/lib/perk", "/var/backups/perk"} {
		local := filepath.Join(h.root, filepath.FromSlash(p))
		if err := os.MkdirAll(local, 0o750); err != nil {
			t.Fatal(err)
		}
		pairs = append(pairs, p, local)
	}
	h.paths = strings.NewReplacer(pairs...)
	os.MkdirAll(h.bin, 0o755)
	scripts := map[string]string{
		"sudo":      "while [ $# -gt 0 ]; do case \"$1\" in -u) shift 2;; -*) shift;; *) break;; esac; done\nexec \"$@\"\n",
		"systemctl": "echo \"systemctl $*\" >> " + filepath.Join(h.root, "commands.log") + "\n",
		"chown":     "echo \"chown $*\" >> " + filepath.Join(h.root, "commands.log") + "\n",
	}
	for name, body := range scripts {
		if err := os.WriteFile(filepath.Join(h.bin, name), []byte("#!/bin/sh\n"+body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// perk on the PATH is the binary under test.
	if err := os.Symlink(perkBin, filepath.Join(h.bin, "perk")); err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *deployHost) path(p string) string { return h.paths.Replace(p) }

// run runs a documented shell block on the host and returns its output.
func (h *deployHost) run(t *testing.T, name, block string) string {
	t.Helper()
	script := h.path(block)
	if m := regexp.MustCompile(`(^|[\s"'=])/(etc|var|srv|opt|home)/\S*`).FindString(script); m != "" {
		t.Fatalf("block %s uses %s, which the test does not map", name, strings.TrimSpace(m))
	}
	cmd := exec.Command("sh", "-e", "-c", script)
	cmd.Dir = h.root
	cmd.Env = append(os.Environ(), "PATH="+h.bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("block %s failed: %v\n%s\n%s", name, err, script, out.String())
	}
	return out.String()
}

// TestDeployDoc_BackupAndRestore runs docs/deploy.md's backup block while a
// server set up from deploy/perk.conf enrols members, checks that the copy
// holds every member enrolled before it and none enrolled after, then runs
// the restore block and starts the server on the restored database.
func TestDeployDoc_BackupAndRestore(t *testing.T) {
	blocks := docBlocks(t)
	for _, name := range []string{"backup", "restore"} {
		if blocks[name] == "" {
			t.Fatalf("docs/deploy.md has no block marked <!-- deploy-test: %s -->", name)
		}
	}
	h := newDeployHost(t)
	conf := h.path("/etc/perk/perk.conf")
	if err := os.WriteFile(conf, []byte(h.path(readRepoFile(t, "deploy/perk.conf"))), 0o640); err != nil {
		t.Fatal(err)
	}
	// The example configuration as it is, but for what a test machine needs:
	// free ports, and text logs for serve's start-up line.
	env := []string{"PERK_CONFIG=" + conf, "PERK_METRICS_ADDR=127.0.0.1:0", "PERK_LOG_FORMAT=text", "PERK_LOG_LEVEL=warn"}
	key, stderr, err := perk(t, env, "keys", "create", "--role", "admin", "--name", "deploy-test")
	if err != nil {
		t.Fatalf("keys create: %v\n%s", err, stderr)
	}
	key = strings.TrimSpace(key)
	url, stop := serve(t, env, "--addr", "127.0.0.1:0")

	// A writer enrols members one after another until told to stop.
	var mu sync.Mutex
	var enrolled []string // phones, in order
	progress := make(chan int, 1000)
	quit := make(chan struct{})
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		for i := 0; ; i++ {
			select {
			case <-quit:
				return
			default:
			}
			phone := fmt.Sprintf("+4474001%05d", i)
			body := fmt.Sprintf(`{"phone":%q,"first_name":"M%d","consent":{"sms":true,"source":"deploy test"}}`, phone, i)
			req, _ := http.NewRequest("POST", url+"/v1/members", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+key)
			req.Header.Set("Content-Type", "application/json")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Errorf("enrol: %v", err)
				return
			}
			res.Body.Close()
			if res.StatusCode != http.StatusCreated {
				t.Errorf("enrol %s = %d", phone, res.StatusCode)
				return
			}
			mu.Lock()
			enrolled = append(enrolled, phone)
			n := len(enrolled)
			mu.Unlock()
			select {
			case progress <- n:
			default:
			}
		}
	}()
	waitFor := func(n int) {
		t.Helper()
		for {
			select {
			case got := <-progress:
				if got >= n {
					return
				}
			case <-writerDone:
				t.Fatal("the writer stopped")
			}
		}
	}
	waitFor(30)
	mu.Lock()
	before := len(enrolled)
	mu.Unlock()
	printed := strings.TrimSpace(h.run(t, "backup", blocks["backup"]))
	mu.Lock()
	after := len(enrolled)
	mu.Unlock()
	waitFor(after + 20) // members enrolled after the copy was made
	close(quit)
	<-writerDone

	copies, _ := filepath.Glob(h.path("/var/backups/perk/perk-*.db"))
	if len(copies) != 1 || !strings.HasSuffix(printed, copies[0]) {
		t.Fatalf("backups %v; perk backup printed %q", copies, printed)
	}
	if st, _ := os.Stat(copies[0]); st.Mode().Perm() != 0o600 {
		t.Errorf("the backup's mode is %v, want 0600", st.Mode().Perm())
	}
	inBackup := map[string]bool{}
	func() {
		db, err := sql.Open("sqlite", "file:"+copies[0]+"?mode=ro")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var check string
		if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
			t.Fatalf("integrity_check of the backup = %q, %v", check, err)
		}
		rows, err := db.Query(`SELECT phone FROM members`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var p string
			rows.Scan(&p)
			inBackup[p] = true
		}
	}()
	for i, p := range enrolled {
		switch {
		case i < before && !inBackup[p]:
			t.Errorf("member %d (%s), enrolled before the backup, is not in it", i, p)
		case i >= after && inBackup[p]:
			t.Errorf("member %d (%s), enrolled after the backup, is in it", i, p)
		}
	}
	t.Logf("%d enrolled; %d before the backup began, %d by its end; the backup holds %d", len(enrolled), before, after, len(inBackup))

	stop()
	h.run(t, "restore", blocks["restore"])
	log, _ := os.ReadFile(filepath.Join(h.root, "commands.log"))
	if want := "systemctl stop perk\nchown perk:perk perk.db\nsystemctl start perk\n"; string(log) != want {
		t.Errorf("the restore block ran\n%s\nwant\n%s", log, want)
	}
	if _, err := os.Stat(h.path("/var/lib/perk/replaced/perk.db")); err != nil {
		t.Errorf("the replaced database was not kept: %v", err)
	}

	url, stop = serve(t, env, "--addr", "127.0.0.1:0")
	get := func(phone string) int {
		req, _ := http.NewRequest("GET", url+"/v1/members/"+phone, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if code := get(enrolled[0]); code != http.StatusOK {
		t.Errorf("after the restore, a member in the backup = %d, want 200", code)
	}
	if code := get(enrolled[len(enrolled)-1]); code != http.StatusNotFound {
		t.Errorf("after the restore, a member enrolled after the backup = %d, want 404", code)
	}
	stop()
}
