package smpp

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/perk-platform/perk/internal/sms"
)

// errClosed is a request cut short because its connection went away; the
// SMSC may or may not have acted on it, and the sender retries.
var errClosed = fmt.Errorf("smpp: connection closed: %w", sms.ErrTemporary)

// session is one TCP connection to the SMSC. A reader goroutine matches
// responses to requests by sequence number and hands requests from the SMSC
// to handle; writes from any goroutine are serialised by wmu.
type session struct {
	conn    net.Conn
	timeout time.Duration // write deadline and default response wait

	wmu sync.Mutex

	mu      sync.Mutex
	pending map[uint32]chan PDU // guarded by mu; buffered 1, by request seq

	once sync.Once
	done chan struct{} // closed by close
	err  error         // why it closed; set before done is closed
}

func newSession(conn net.Conn, timeout time.Duration) *session {
	return &session{conn: conn, timeout: timeout, pending: make(map[uint32]chan PDU), done: make(chan struct{})}
}

// close ends the session once; pending calls fail with errClosed.
func (s *session) close(err error) {
	s.once.Do(func() {
		s.err = err
		s.conn.Close()
		close(s.done)
	})
}

func (s *session) write(p PDU) error {
	b := p.Encode()
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.conn.SetWriteDeadline(time.Now().Add(s.timeout))
	if _, err := s.conn.Write(b); err != nil {
		// A partial write leaves the stream out of frame: the connection
		// is useless.
		s.close(err)
		return fmt.Errorf("smpp: write %s: %v: %w", CommandName(p.Command), err, sms.ErrTemporary)
	}
	return nil
}

// call sends a request and waits for its response (or generic_nack) for at
// most wait. A response with an error status is returned as *StatusError
// along with the PDU.
func (s *session) call(ctx context.Context, p PDU, wait time.Duration) (PDU, error) {
	ch := make(chan PDU, 1)
	s.mu.Lock()
	s.pending[p.Seq] = ch
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.pending, p.Seq)
		s.mu.Unlock()
	}()
	if err := s.write(p); err != nil {
		return PDU{}, err
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case r := <-ch:
		if r.Status != StatusOK {
			return r, &StatusError{Command: r.Command, Status: r.Status}
		}
		return r, nil
	case <-t.C:
		return PDU{}, fmt.Errorf("smpp: no response to %s seq %d in %v: %w", CommandName(p.Command), p.Seq, wait, sms.ErrTemporary)
	case <-s.done:
		return PDU{}, errClosed
	case <-ctx.Done():
		return PDU{}, ctx.Err()
	}
}

// read runs until the connection fails, routing responses to callers and
// requests to handle (which runs on this goroutine, so it must not block
// for long).
func (s *session) read(handle func(PDU)) {
	r := bufio.NewReader(s.conn)
	for {
		p, err := ReadPDU(r)
		if err != nil && (p.Command == 0 || errors.Is(err, ErrFrame)) {
			s.close(err) // I/O error or out of frame: nothing more can be read
			return
		}
		if err != nil {
			// Framed but malformed body: refuse it and carry on.
			if p.Command&GenericNack == 0 {
				s.write(PDU{Command: GenericNack, Status: StatusInvCmdLen, Seq: p.Seq})
			}
			continue
		}
		if p.Command&GenericNack != 0 {
			s.mu.Lock()
			ch := s.pending[p.Seq]
			s.mu.Unlock()
			if ch != nil {
				select {
				case ch <- p:
				default: // a duplicate response; the first one counted
				}
			}
			continue
		}
		handle(p)
	}
}
