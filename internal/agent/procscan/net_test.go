package procscan

import (
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"
)

// littleEndian says the kernel prints address words as x86 and arm64 do;
// the tables below are in that order.
func littleEndian() bool {
	var b [2]byte
	binary.NativeEndian.PutUint16(b[:], 1)
	return b[0] == 1
}

const tcpHeader = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"

func TestParseNetTCP(t *testing.T) {
	if !littleEndian() {
		t.Skip("tables are in little-endian word order")
	}
	in := tcpHeader +
		"   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 41242 1 0000000000000000 100 0 0 10 0\n" +
		"   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1001 1 0000000000000000 100 0 0 10 0\n" +
		// established: not a listener
		"   2: 0100007F:1F90 0100007F:D3A2 01 00000000:00000000 00:00000000 00000000     0        0 41250 1 0000000000000000 20 4 30 10 -1\n" +
		// time-wait: inode 0
		"   3: 0100007F:1F90 0100007F:D3A4 06 00000000:00000000 03:000011C5 00000000     0        0 0 3 0000000000000000\n" +
		"   4: 0F02000A:01BB 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1002 1 0000000000000000 100 0 0 10 0\n" +
		"   5: garbage\n" +
		"   6: ZZZZZZZZ:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1003 1\n"
	res, err := parseNet(strings.NewReader(in), "tcp", 1000)
	if err != nil {
		t.Fatal(err)
	}
	want := []Listener{
		{Proto: "tcp", Addr: netip.MustParseAddr("127.0.0.1"), Port: 8080, Inode: 41242},
		{Proto: "tcp", Addr: netip.MustParseAddr("0.0.0.0"), Port: 22, Inode: 1001},
		{Proto: "tcp", Addr: netip.MustParseAddr("10.0.2.15"), Port: 443, Inode: 1002},
	}
	checkListeners(t, res.listeners, want)
	if res.malformed != 2 {
		t.Errorf("malformed = %d, want 2", res.malformed)
	}
}

func TestParseNetTCP6(t *testing.T) {
	if !littleEndian() {
		t.Skip("tables are in little-endian word order")
	}
	in := tcpHeader +
		"   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2001 1 0000000000000000 100 0 0 10 0\n" +
		"   1: 00000000000000000000000000000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2002 1 0000000000000000 100 0 0 10 0\n" +
		"   2: 0000000000000000FFFF00000100007F:2382 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000   101        0 2003 1 0000000000000000 100 0 0 10 0\n" +
		"   3: B80D0120000000000000000001000000:01BB 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2004 1 0000000000000000 100 0 0 10 0\n" +
		"   4: 000080FE00000000FF5A0502FE1E63E5:1F91 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2005 1 0000000000000000 100 0 0 10 0\n" +
		// a 31-digit address is malformed
		"   5: 0000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2006 1\n"
	res, err := parseNet(strings.NewReader(in), "tcp6", 1000)
	if err != nil {
		t.Fatal(err)
	}
	checkListeners(t, res.listeners, []Listener{
		{Proto: "tcp6", Addr: netip.MustParseAddr("::1"), Port: 8080, Inode: 2001},
		{Proto: "tcp6", Addr: netip.MustParseAddr("::"), Port: 80, Inode: 2002},
		{Proto: "tcp6", Addr: netip.MustParseAddr("::ffff:127.0.0.1"), Port: 9090, Inode: 2003},
		{Proto: "tcp6", Addr: netip.MustParseAddr("2001:db8::1"), Port: 443, Inode: 2004},
		{Proto: "tcp6", Addr: netip.MustParseAddr("fe80::205:5aff:e563:1efe"), Port: 8081, Inode: 2005},
	})
	if res.malformed != 1 {
		t.Errorf("malformed = %d, want 1", res.malformed)
	}
}

func TestParseNetUDP(t *testing.T) {
	if !littleEndian() {
		t.Skip("tables are in little-endian word order")
	}
	in := "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n" +
		// bound DNS server
		"  100: 3500007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000   101        0 3001 2 0000000000000000 0\n" +
		// a client connected to 10.96.0.10:53: not a listener
		"  101: 0F02000A:C350 0A00600A:0035 01 00000000:00000000 00:00000000 00000000     0        0 3002 2 0000000000000000 0\n" +
		// unconnected but port 0: never bound
		"  102: 00000000:0000 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 3003 2 0000000000000000 0\n"
	res, err := parseNet(strings.NewReader(in), "udp", 1000)
	if err != nil {
		t.Fatal(err)
	}
	checkListeners(t, res.listeners, []Listener{
		{Proto: "udp", Addr: netip.MustParseAddr("127.0.0.53"), Port: 53, Inode: 3001},
	})
	if got := res.listeners[0].PortName(); got != "udp/53" {
		t.Errorf("PortName = %q, want udp/53", got)
	}
}

func TestParseNetCap(t *testing.T) {
	var b strings.Builder
	b.WriteString(tcpHeader)
	for i := range 100 {
		b.WriteString("   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 ")
		b.WriteString(itoa(5000 + i))
		b.WriteString(" 1\n")
	}
	res, err := parseNet(strings.NewReader(b.String()), "tcp", 50)
	if err != nil {
		t.Fatal(err)
	}
	// The header is one of the 50 lines.
	if !res.cut || len(res.listeners) != 49 {
		t.Errorf("cut=%v listeners=%d, want cut with 49", res.cut, len(res.listeners))
	}
}

func checkListeners(t *testing.T, got, want []Listener) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d listeners %+v, want %d %+v", len(got), got, len(want), want)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Proto != w.Proto || g.Addr != w.Addr || g.Port != w.Port || g.Inode != w.Inode {
			t.Errorf("listener %d = %s %s:%d inode %d, want %s %s:%d inode %d",
				i, g.Proto, g.Addr, g.Port, g.Inode, w.Proto, w.Addr, w.Port, w.Inode)
		}
	}
}
