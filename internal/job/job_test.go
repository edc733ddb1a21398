package job_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/job"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/testenv"
)

var t0 = time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)

// fixture is a database, a clock and queues on it.
type fixture struct {
	t   *testing.T
	db  *store.DB
	clk *testenv.Clock
}

func (f *fixture) queue(node string, kinds map[string]job.Handler) *job.Queue {
	q := job.New(f.db, job.Options{Node: node, Now: f.clk.Now, Lease: time.Minute})
	for k, h := range kinds {
		q.Handle(k, h)
	}
	return q
}

func (f *fixture) enqueue(s job.Spec) {
	f.t.Helper()
	if err := job.Enqueue(context.Background(), f.db.W, s, f.clk.Now()); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) get(id string) *job.Job {
	f.t.Helper()
	j, err := job.Get(context.Background(), f.db, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return j
}

func (f *fixture) claim(q *job.Queue) *job.Run {
	f.t.Helper()
	r, err := q.Claim(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	return r
}

func each(t *testing.T, fn func(t *testing.T, f *fixture)) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		fn(t, &fixture{t: t, db: db, clk: testenv.NewClock(t0)})
	})
}

func nothing(context.Context, *job.Run) error { return nil }

func TestClaim_TakesOnlyDueJobsOfItsKindsAndNode(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		f.enqueue(job.Spec{ID: "later", Kind: "import", RunAt: t0.Add(30 * time.Second)})
		f.enqueue(job.Spec{ID: "other-kind", Kind: "export"})
		f.enqueue(job.Spec{ID: "other-node", Kind: "import", Node: "b"})
		f.enqueue(job.Spec{ID: "mine", Kind: "import", Node: "a"})
		f.enqueue(job.Spec{ID: "anywhere", Kind: "import", RunAt: t0.Add(-time.Second)})
		q := f.queue("a", map[string]job.Handler{"import": nothing})
		for _, want := range []string{"anywhere", "mine"} { // most overdue first
			r := f.claim(q)
			if r == nil || r.Job.ID != want {
				t.Fatalf("claimed %+v, want %s", r, want)
			}
			if r.Job.State != job.Running || r.Job.Attempts != 1 {
				t.Errorf("%s: state %s attempts %d", want, r.Job.State, r.Job.Attempts)
			}
		}
		if r := f.claim(q); r != nil {
			t.Fatalf("claimed %s: not due, another kind or another node's", r.Job.ID)
		}
		f.clk.Advance(30 * time.Second) // the others' leases still hold
		if r := f.claim(q); r == nil || r.Job.ID != "later" {
			t.Fatalf("at its run_at, claimed %+v, want later", r)
		}
	})
}

func TestLease_ARunnerThatStopsBeatingLosesTheJobAndItsCheckpoints(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		f.enqueue(job.Spec{ID: "j", Kind: "k"})
		q1 := f.queue("a", map[string]job.Handler{"k": nothing})
		q2 := f.queue("b", map[string]job.Handler{"k": nothing})
		r1 := f.claim(q1)
		if r := f.claim(q2); r != nil {
			t.Fatal("a job under a live lease was claimed again")
		}
		// A heartbeat keeps it: a minute later the lease still holds.
		f.clk.Advance(50 * time.Second)
		if _, err := r1.Heartbeat(ctx); err != nil {
			t.Fatal(err)
		}
		f.clk.Advance(50 * time.Second)
		if r := f.claim(q2); r != nil {
			t.Fatal("claimed while its runner's heartbeat kept the lease")
		}
		if err := r1.Save(ctx, map[string]int{"row": 100}); err != nil {
			t.Fatal(err)
		}
		// Then r1 stalls past its lease: r2 takes over from r1's last checkpoint.
		f.clk.Advance(61 * time.Second)
		r2 := f.claim(q2)
		if r2 == nil {
			t.Fatal("a job whose lease ran out was not claimed")
		}
		var p struct{ Row int }
		if ok, err := r2.Resume(&p); !ok || err != nil || p.Row != 100 {
			t.Fatalf("resume = %v %v %+v, want row 100", ok, err, p)
		}
		if r2.Job.Attempts != 2 {
			t.Errorf("attempts %d, want 2", r2.Job.Attempts)
		}
		// The stale runner can no longer write progress or beat.
		err := f.db.Tx(ctx, func(tx *sql.Tx) error { return r1.Checkpoint(ctx, tx, map[string]int{"row": 150}) })
		if !errors.Is(err, job.ErrLeaseLost) {
			t.Fatalf("stale checkpoint: %v, want ErrLeaseLost", err)
		}
		if _, err := r1.Heartbeat(ctx); !errors.Is(err, job.ErrLeaseLost) {
			t.Fatalf("stale heartbeat: %v, want ErrLeaseLost", err)
		}
		if got := string(f.get("j").Progress); got != `{"row":100}` {
			t.Fatalf("progress %s, want the last checkpoint of the live lease", got)
		}
	})
}

func TestRecover_ARestartedNodeResumesItsJobsAtOnce(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		f.enqueue(job.Spec{ID: "mine", Kind: "k", Node: "a"})
		f.enqueue(job.Spec{ID: "theirs", Kind: "k"})
		dead := f.queue("a", map[string]job.Handler{"k": nothing})
		other := f.queue("b", map[string]job.Handler{"k": nothing})
		f.claim(dead)  // mine, killed mid-run
		f.claim(other) // theirs, alive on node b
		restarted := f.queue("a", map[string]job.Handler{"k": nothing})
		n, err := restarted.Recover(ctx)
		if err != nil || n != 1 {
			t.Fatalf("recovered %d %v, want 1 (node b's job is not ours)", n, err)
		}
		r := f.claim(restarted)
		if r == nil || r.Job.ID != "mine" {
			t.Fatalf("claimed %+v after recover, want mine without waiting for the lease", r)
		}
		if r.Job.Attempts != 2 {
			t.Errorf("attempts %d: the killed run counts", r.Job.Attempts)
		}
	})
}

func TestRetry_FailuresBackOffThenFail(t *testing.T) {
	cases := []struct {
		name  string
		err   error
		runs  int // runs made until it ends
		state job.State
	}{
		{"a passing failure is retried until it passes", errOnce, 2, job.Done},
		{"a failure every time ends after max attempts", errors.New("database gone"), 3, job.Failed},
		{"a permanent failure is not retried", job.Permanent(errors.New("not a CSV file")), 1, job.Failed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			each(t, func(t *testing.T, f *fixture) {
				ctx := context.Background()
				runs := 0
				q := f.queue("a", map[string]job.Handler{"k": func(ctx context.Context, r *job.Run) error {
					runs++
					if c.err == errOnce && runs > 1 {
						return nil
					}
					return c.err
				}})
				f.enqueue(job.Spec{ID: "j", Kind: "k", MaxAttempts: 3})
				for want := 1; ; want++ {
					if n, err := q.RunDue(ctx); err != nil || n != 1 {
						t.Fatalf("run %d: RunDue = %d %v", want, n, err)
					}
					j := f.get("j")
					if j.State != job.Queued {
						break
					}
					// Not before its back-off: 10 s, then 20 s.
					wait := job.Backoff(want)
					if !j.RunAt.Equal(f.clk.Now().Add(wait)) {
						t.Fatalf("retry %d at %s, want %s later", want, j.RunAt, wait)
					}
					f.clk.Advance(wait - time.Second)
					if n, _ := q.RunDue(ctx); n != 0 {
						t.Fatal("retried before its back-off")
					}
					f.clk.Advance(time.Second)
				}
				j := f.get("j")
				if runs != c.runs || j.State != c.state {
					t.Fatalf("%d runs, state %s (%s); want %d runs, %s", runs, j.State, j.Error, c.runs, c.state)
				}
				if c.state == job.Failed && j.Error != c.err.Error() {
					t.Errorf("error %q, want %q", j.Error, c.err)
				}
			})
		})
	}
}

var errOnce = errors.New("fails once")

func TestCancel(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		f.enqueue(job.Spec{ID: "queued", Kind: "k", RunAt: t0.Add(time.Hour)})
		if st, err := job.Cancel(ctx, f.db, "queued", f.clk.Now()); err != nil || st != job.Cancelled {
			t.Fatalf("cancel queued = %s %v", st, err)
		}
		// A running job is asked to stop; its handler sees its context end.
		f.enqueue(job.Spec{ID: "running", Kind: "k"})
		var cause error
		q := job.New(f.db, job.Options{Node: "a", Now: f.clk.Now, Lease: 30 * time.Millisecond})
		q.Handle("k", func(ctx context.Context, r *job.Run) error {
			if st, err := job.Cancel(ctx, f.db, r.Job.ID, f.clk.Now()); err != nil || st != job.Running {
				t.Errorf("cancel running = %s %v", st, err)
			}
			<-ctx.Done() // at the next heartbeat
			cause = context.Cause(ctx)
			return ctx.Err()
		})
		if n, err := q.RunDue(ctx); err != nil || n != 1 {
			t.Fatalf("RunDue = %d %v (the cancelled queued job must not run)", n, err)
		}
		if !errors.Is(cause, job.ErrCancelled) {
			t.Errorf("handler's context ended by %v", cause)
		}
		for _, id := range []string{"queued", "running"} {
			if j := f.get(id); j.State != job.Cancelled || j.FinishedAt == nil {
				t.Errorf("%s: state %s finished %v", id, j.State, j.FinishedAt)
			}
		}
		// A finished job stays as it is.
		if st, _ := job.Cancel(ctx, f.db, "running", f.clk.Now()); st != job.Cancelled {
			t.Errorf("cancel again = %s", st)
		}
	})
}

func TestShutdown_GivesTheJobBackUncounted(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		f.enqueue(job.Spec{ID: "j", Kind: "k", MaxAttempts: 1})
		ctx, stop := context.WithCancel(context.Background())
		q := f.queue("a", map[string]job.Handler{"k": func(ctx context.Context, r *job.Run) error {
			stop() // perk serve is stopping
			<-ctx.Done()
			return ctx.Err()
		}})
		q.RunDue(ctx)
		j := f.get("j")
		if j.State != job.Queued || j.Attempts != 0 || !j.RunAt.Equal(t0) {
			t.Fatalf("after shutdown: %s, %d attempts, run_at %s; want queued now, 0 attempts", j.State, j.Attempts, j.RunAt)
		}
	})
}

func TestEnqueueOnce_OneLiveJobPerID(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		s := job.Spec{ID: "sweep", Kind: "k"}
		for i, want := range []bool{true, false} {
			if ok, err := job.EnqueueOnce(ctx, f.db, s, f.clk.Now()); err != nil || ok != want {
				t.Fatalf("call %d: %v %v, want %v", i, ok, err, want)
			}
		}
		q := f.queue("a", map[string]job.Handler{"k": nothing})
		q.RunDue(ctx)
		if ok, err := job.EnqueueOnce(ctx, f.db, s, f.clk.Now()); err != nil || !ok {
			t.Fatalf("after it finished: %v %v, want enqueued again", ok, err)
		}
	})
}

func TestRun_ResultAndDone(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		f.enqueue(job.Spec{ID: "j", Kind: "k", Payload: map[string]string{"file": "a.csv"}})
		q := f.queue("a", map[string]job.Handler{"k": func(ctx context.Context, r *job.Run) error {
			var p struct{ File string }
			if err := r.Payload(&p); err != nil {
				return err
			}
			r.SetResult(map[string]string{"read": p.File})
			return nil
		}})
		q.RunDue(context.Background())
		j := f.get("j")
		if j.State != job.Done || string(j.Result) != `{"read":"a.csv"}` || j.FinishedAt == nil || !j.FinishedAt.Equal(t0) {
			t.Fatalf("job %+v", j)
		}
	})
}

func TestAgain_ARecurringJobIsOneRowDueAgain(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		runs := 0
		q := f.queue("a", map[string]job.Handler{"sweep": func(ctx context.Context, r *job.Run) error {
			runs++
			r.Again(f.clk.Now().Add(time.Hour))
			return nil
		}})
		job.EnqueueOnce(ctx, f.db, job.Spec{ID: "sweep", Kind: "sweep"}, f.clk.Now())
		for hour := range 3 {
			if n, err := q.RunDue(ctx); n != 1 || err != nil {
				t.Fatalf("hour %d: %d runs %v", hour, n, err)
			}
			j := f.get("sweep")
			if j.State != job.Queued || !j.RunAt.Equal(f.clk.Now().Add(time.Hour)) || j.Attempts != 0 {
				t.Fatalf("hour %d: %+v", hour, j)
			}
			f.clk.Advance(time.Hour)
		}
		if runs != 3 {
			t.Fatalf("%d runs", runs)
		}
	})
}
