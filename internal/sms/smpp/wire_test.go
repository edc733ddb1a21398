package smpp

import (
	"bufio"
	"context"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/testenv"
)

// TestWireFormat_DecodedByTshark captures the client's traffic on the
// loopback and has Wireshark's SMPP dissector (Debian tshark) read it: the
// PDUs must be what an independent decoder sees as a two-part GSM message
// with a UDH, a sequence number per part and a receipt asked on the last.
func TestWireFormat_DecodedByTshark(t *testing.T) {
	tshark := testenv.Binary(t, "PERK_TEST_TSHARK", "tshark", "SMPP wire check")
	testenv.Env(t, "PERK_TEST_CAPTURE", "SMPP wire check (packet capture on the loopback needs root or CAP_NET_RAW)")
	s := newTestSMSC(t, nil)
	_, port, _ := net.SplitHostPort(s.addr)
	pcap := filepath.Join(t.TempDir(), "smpp.pcap")

	capture := exec.Command(tshark, "-i", "lo", "-f", "tcp port "+port, "-w", pcap)
	stderr, _ := capture.StderrPipe()
	if err := capture.Start(); err != nil {
		t.Fatal(err)
	}
	started := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "Capturing on") {
				started <- true
			}
		}
	}()
	select {
	case <-started:
	case <-time.After(20 * time.Second):
		capture.Process.Kill()
		t.Fatal("tshark did not start capturing")
	}

	// dumpcap reports "Capturing on" a moment before packets flow; there is
	// no signal for that moment, so allow it one second.
	time.Sleep(time.Second)
	c := startClient(t, s.addr, nil, nil)
	long := strings.Repeat("Spring sale at Perk Market: 20% off all bakery items this weekend. ", 3) // 2 parts
	if _, err := c.Send(context.Background(), msg("447700900123", long)); err != nil {
		t.Fatal(err)
	}
	// Give the last packets time to reach the capture, then stop it cleanly.
	time.Sleep(500 * time.Millisecond)
	capture.Process.Signal(syscall.SIGINT)
	capture.Wait()

	cmd := exec.Command(tshark, "-r", pcap, "-d", "tcp.port=="+port+",smpp", "-Y", "smpp.command_id == 0x00000004",
		"-T", "fields", "-E", "separator=|", "-e", "smpp.sequence_number", "-e", "smpp.esm.submit.features", "-e", "smpp.data_coding",
		"-e", "smpp.regdel.receipt", "-e", "smpp.destination_addr", "-e", "smpp.source_addr")
	var errOut strings.Builder
	cmd.Stderr = &errOut
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark -r: %v: %s", err, errOut.String())
	}
	t.Logf("tshark decoded:\n%s", out)
	rows := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(rows) != 2 {
		all, _ := exec.Command(tshark, "-r", pcap, "-d", "tcp.port=="+port+",smpp").CombinedOutput()
		t.Fatalf("tshark saw %d submit_sm, want 2:\n%s\nall packets:\n%s", len(rows), out, all)
	}
	seqs := map[string]bool{}
	for i, row := range rows {
		f := strings.Split(row, "|")
		if len(f) != 6 {
			t.Fatalf("row %q", row)
		}
		seqs[f[0]] = true
		wantReceipt := "0x00"
		if i == 1 {
			wantReceipt = "0x01"
		}
		// esm_class features 0x01 is the UDH indicator (esm_class 0x40).
		if f[1] != "0x01" || f[2] != "0x00" || f[3] != wantReceipt || f[4] != "447700900123" || f[5] != "PERK" {
			t.Errorf("part %d decoded as seq=%s UDHI=%s data_coding=%s receipt=%s to=%s from=%s", i+1,
				f[0], f[1], f[2], f[3], f[4], f[5])
		}
	}
	if len(seqs) != 2 {
		t.Errorf("both parts have sequence number %v", seqs)
	}
}
