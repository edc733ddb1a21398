package smpp

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
)

// Sink is an SMSC that answers at once, for measuring Perk's side of SMPP
// (perk bench sms, the kill test): it binds anyone, acknowledges each
// submit_sm at once with a decimal message_id, and sends a DELIVRD receipt
// right after for each that asked for one. It counts submits and the
// destinations+texts it sees twice, so a test can bound what a restarted
// sender repeated. Make it with NewSink.
type Sink struct {
	ln net.Listener

	submits   atomic.Int64
	receipts  atomic.Int64 // deliver_sm acknowledged by the client
	nextID    atomic.Int64
	binds     atomic.Int64
	mu        sync.Mutex
	seen      map[string]bool // destination|text; guarded by mu
	dups      int             // guarded by mu
	wg        sync.WaitGroup
	connsMu   sync.Mutex
	conns     map[net.Conn]bool
	closeOnce sync.Once
}

// NewSink starts a sink on addr ("127.0.0.1:0" picks a port); with tlsCfg
// it speaks SMPP over TLS. Close stops it.
func NewSink(addr string, tlsCfg *tls.Config) (*Sink, error) {
	var ln net.Listener
	var err error
	if tlsCfg != nil {
		ln, err = tls.Listen("tcp", addr, tlsCfg)
	} else {
		ln, err = net.Listen("tcp", addr)
	}
	if err != nil {
		return nil, fmt.Errorf("smpp sink: %w", err)
	}
	s := &Sink{ln: ln, seen: map[string]bool{}, conns: map[net.Conn]bool{}}
	s.nextID.Store(1000)
	s.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.connsMu.Lock()
			s.conns[c] = true
			s.connsMu.Unlock()
			s.wg.Go(func() { s.serve(c) })
		}
	})
	return s, nil
}

// Addr is the address the sink listens on.
func (s *Sink) Addr() string { return s.ln.Addr().String() }

// Submits is how many submit_sm the sink has answered.
func (s *Sink) Submits() int64 { return s.submits.Load() }

// Receipts is how many receipts the client has acknowledged.
func (s *Sink) Receipts() int64 { return s.receipts.Load() }

// Binds is how many binds the sink has accepted.
func (s *Sink) Binds() int64 { return s.binds.Load() }

// Duplicates is how many submit_sm repeated a destination and text seen
// before.
func (s *Sink) Duplicates() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dups
}

// Close stops listening and drops every connection.
func (s *Sink) Close() {
	s.closeOnce.Do(func() {
		s.ln.Close()
		s.connsMu.Lock()
		for c := range s.conns {
			c.Close()
		}
		s.connsMu.Unlock()
		s.wg.Wait()
	})
}

func (s *Sink) serve(c net.Conn) {
	defer func() {
		c.Close()
		s.connsMu.Lock()
		delete(s.conns, c)
		s.connsMu.Unlock()
	}()
	r := bufio.NewReaderSize(c, 64<<10)
	w := bufio.NewWriterSize(c, 64<<10)
	var seq uint32 = 1 << 20
	for {
		p, err := ReadPDU(r)
		if err != nil {
			return
		}
		var out []PDU
		switch p.Command {
		case BindTransceiver:
			s.binds.Add(1)
			out = append(out, PDU{Command: BindTransceiverResp, Seq: p.Seq, SystemID: "perksink"})
		case EnquireLink:
			out = append(out, PDU{Command: EnquireLinkResp, Seq: p.Seq})
		case Unbind:
			w.Write(PDU{Command: UnbindResp, Seq: p.Seq}.Encode())
			w.Flush()
			return
		case SubmitSM:
			s.submits.Add(1)
			key := p.SM.Dest + "|" + string(p.SM.ShortMessage)
			s.mu.Lock()
			if s.seen[key] {
				s.dups++
			}
			s.seen[key] = true
			s.mu.Unlock()
			id := fmt.Sprint(s.nextID.Add(1))
			out = append(out, PDU{Command: SubmitSMResp, Seq: p.Seq, MessageID: id})
			if p.SM.RegisteredDelivery&1 != 0 {
				seq++
				out = append(out, PDU{Command: DeliverSM, Seq: seq, SM: SM{SourceTON: 1, SourceNPI: 1, Source: p.SM.Dest,
					Dest: p.SM.Source, ESMClass: esmReceipt,
					ShortMessage: []byte("id:" + id + " sub:001 dlvrd:001 submit date:2611231000 done date:2611231000 stat:DELIVRD err:000 text:")}})
			}
		case DeliverSMResp:
			if p.Status == StatusOK {
				s.receipts.Add(1)
			}
		default:
			if p.Command&GenericNack == 0 {
				out = append(out, PDU{Command: GenericNack, Status: StatusInvCmdID, Seq: p.Seq})
			}
		}
		for _, o := range out {
			w.Write(o.Encode())
		}
		// Flush only when nothing more is waiting to be read, so a window
		// of submits is answered in a few writes.
		if r.Buffered() == 0 {
			if err := w.Flush(); err != nil {
				return
			}
		}
	}
}
