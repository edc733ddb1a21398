package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/perk-platform/perk/internal/sms"
	"github.com/perk-platform/perk/internal/sms/smpp"
	"github.com/perk-platform/perk/internal/store"
)

// benchSMSC runs an SMPP sink (smpp.Sink) until stdin closes: it prints its
// address on the first line of stdout, and its counts when it stops.
func benchSMSC(args []string) error {
	fs := flag.NewFlagSet("perk bench smsc", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on")
	if err := parse(fs, args); err != nil {
		return err
	}
	s, err := smpp.NewSink(*addr, nil)
	if err != nil {
		return err
	}
	fmt.Println(s.Addr())
	io.Copy(io.Discard, os.Stdin)
	s.Close()
	fmt.Printf("submits %d receipts %d duplicates %d binds %d\n", s.Submits(), s.Receipts(), s.Duplicates(), s.Binds())
	return nil
}

// smsBenchResult is what perk bench sms measured.
type smsBenchResult struct {
	Dialect      string  `json:"dialect"`
	Messages     int     `json:"messages"`
	Backlog      int     `json:"backlog"`
	Binds        int     `json:"binds"`
	Window       int     `json:"window"`
	Seconds      float64 `json:"seconds"`
	PerSecond    float64 `json:"msgs_per_s"`
	ProcessCPUms float64 `json:"process_cpu_ms_per_msg"`
	BackendCPUms float64 `json:"backend_cpu_ms_per_msg"` // PostgreSQL backends serving the database
}

// benchSMS measures SMS end to end: messages queued, claimed, submitted
// over SMPP to a sink in a child process that answers at once, and every
// receipt stored. CPU is this process's (getrusage) and, on PostgreSQL,
// that of the server backends connected to the database.
func benchSMS(ctx context.Context, args []string) error {
	var c Config
	var n, backlog, binds, window int
	fs := flag.NewFlagSet("perk bench sms", flag.ContinueOnError)
	strFlag(fs, &c.DB, "db", "PERK_DB", "", "database: postgres://... or a SQLite file path; its sms_outbox is emptied first")
	fs.IntVar(&n, "n", 20000, "messages to send")
	fs.IntVar(&backlog, "backlog", 0, "due messages queued behind them (a millisecond later, so claimed after them): the claim must not slow down with the queue's depth")
	fs.IntVar(&binds, "binds", 1, "SMPP binds")
	fs.IntVar(&window, "window", 50, "submit_sm window per bind")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the sending (not of the queueing before it) to this file")
	if err := parse(fs, args); err != nil {
		return err
	}
	if c.DB == "" {
		fmt.Fprintln(os.Stderr, "perk bench sms: --db is required")
		return errUsage
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	db, err := store.Open(ctx, c.DB)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return err
	}
	for _, t := range []string{"sms_outbox", "sms_early_receipts", "sms_tally"} {
		if _, err := db.W.ExecContext(ctx, "DELETE FROM "+t); err != nil {
			return fmt.Errorf("empty %s: %w", t, err)
		}
	}
	now := time.Now().UTC()
	queueAt := func(count int, at time.Time, campaign string) error {
		for done := 0; done < count; done += 10000 {
			part := make([]sms.Outbound, 0, 10000)
			for i := done; i < min(done+10000, count); i++ {
				part = append(part, sms.Outbound{To: fmt.Sprintf("+4474%08d", i), Body: "Your code is 96385074",
					Kind: sms.Transactional, Purpose: "bench", Campaign: campaign})
			}
			if err := db.Tx(ctx, func(tx *sql.Tx) error { return sms.EnqueueMany(ctx, tx, db.Dialect, part, at) }); err != nil {
				return err
			}
		}
		return nil
	}
	if err := queueAt(backlog, now.Add(time.Millisecond), ""); err != nil {
		return err
	}
	if err := queueAt(n, now, "bench"); err != nil {
		return err
	}
	if db.Dialect == store.Postgres {
		db.W.ExecContext(ctx, "ANALYZE sms_outbox")
	}

	self, err := os.Executable()
	if err != nil {
		return err
	}
	sink := exec.CommandContext(ctx, self, "bench", "smsc")
	stdin, _ := sink.StdinPipe()
	stdout, _ := sink.StdoutPipe()
	sink.Stderr = os.Stderr
	if err := sink.Start(); err != nil {
		return err
	}
	out := bufio.NewScanner(stdout)
	if !out.Scan() {
		return fmt.Errorf("perk bench smsc printed no address")
	}
	addr := out.Text()

	queue := sms.NewQueue(db, nil, 30*time.Second, 8)
	rctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	gw, parallel, err := startSMPP(rctx, fmt.Sprintf("smpp://bench:pw@%s?window=%d&binds=%d", addr, window, binds), queue, nil, log, nil, &wg)
	if err != nil {
		cancel()
		return err
	}
	sender := sms.NewSender(queue, gw, nil, log, nil)
	sender.Parallel = parallel
	stopProfile, err := startCPUProfile(*cpuprofile)
	if err != nil {
		cancel()
		return err
	}
	cpu0, backends0 := rusageCPU(), backendCPU(ctx, db)
	start := time.Now()
	wg.Go(func() { sender.Run(rctx) })
	for {
		var delivered int
		// Counted on the campaign index: the backlog is not counted.
		if err := db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM sms_outbox WHERE campaign_id = 'bench' AND status = 'sent'
			AND delivery_state = 'delivered'`).Scan(&delivered); err != nil {
			cancel()
			return err
		}
		if delivered == n {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	elapsed := time.Since(start)
	cpu, backends := rusageCPU()-cpu0, backendCPU(ctx, db).since(backends0)
	stopProfile()
	cancel()
	wg.Wait()
	stdin.Close()
	for out.Scan() {
		fmt.Fprintln(os.Stderr, "sink:", out.Text())
	}
	sink.Wait()
	res := smsBenchResult{Dialect: string(db.Dialect), Messages: n, Backlog: backlog, Binds: binds, Window: window,
		Seconds: elapsed.Seconds(), PerSecond: float64(n) / elapsed.Seconds(),
		ProcessCPUms: float64(cpu.Microseconds()) / 1000 / float64(n), BackendCPUms: float64(backends.Microseconds()) / 1000 / float64(n)}
	if *asJSON {
		return json.NewEncoder(os.Stdout).Encode(res)
	}
	fmt.Printf("%s: %d messages (backlog %d), %d binds x window %d: %.2f s, %.0f msg/s, CPU %.3f ms/msg process + %.3f ms/msg PostgreSQL backends\n",
		res.Dialect, n, backlog, binds, window, res.Seconds, res.PerSecond, res.ProcessCPUms, res.BackendCPUms)
	return nil
}

// rusageCPU is this process's user+system CPU so far.
func rusageCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// backends is the CPU so far of each PostgreSQL backend connected to a
// database, by process id.
type backends map[int]time.Duration

// backendCPU reads the CPU used so far by the PostgreSQL backends connected
// to db's database (from /proc, so the server must run on this machine);
// none on SQLite.
func backendCPU(ctx context.Context, db *store.DB) backends {
	b := backends{}
	if db.Dialect != store.Postgres {
		return b
	}
	rows, err := db.R.QueryContext(ctx, `SELECT pid FROM pg_stat_activity WHERE datname = current_database()`)
	if err != nil {
		return b
	}
	defer rows.Close()
	for rows.Next() {
		var pid int
		rows.Scan(&pid)
		if d, err := pidCPU(pid); err == nil {
			b[pid] = d
		}
	}
	return b
}

// since is the CPU the backends of now used after before was read. A
// backend that connected in between counts whole; one that disconnected
// is lost with what it used since before (an undercount), since its
// process is gone: a plain difference of sums would go negative instead.
func (now backends) since(before backends) time.Duration {
	var d time.Duration
	for pid, cpu := range now {
		d += cpu - before[pid]
	}
	return d
}

// pidCPU is the user+system CPU so far of a process on this machine, from
// /proc/PID/stat.
func pidCPU(pid int) (time.Duration, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	u, _ := strconv.Atoi(f[11])
	s, _ := strconv.Atoi(f[12])
	return time.Duration(u+s) * time.Second / 100, nil // USER_HZ is 100 on Linux
}
