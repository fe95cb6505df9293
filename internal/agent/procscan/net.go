package procscan

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Listener is a listening TCP socket or a bound, unconnected UDP socket of
// one network namespace.
type Listener struct {
	// Proto names the /proc/net file it came from: "tcp", "tcp6", "udp"
	// or "udp6" (a tcp6 socket on "::" also accepts IPv4).
	Proto string     `json:"proto"`
	Addr  netip.Addr `json:"addr"`
	Port  uint16     `json:"port"`
	// Inode is the socket's inode, as fd links name it ("socket:[N]").
	Inode uint64 `json:"inode"`
	// NetNS is the network namespace's inode.
	NetNS uint64 `json:"netns"`
	// PIDs are the processes holding the socket open.
	PIDs []int `json:"pids,omitempty"`
}

// PortName is the port as evidence records name it ("tcp/8080",
// "udp/53"), without the address family.
func (l Listener) PortName() string {
	return strings.TrimSuffix(l.Proto, "6") + "/" + strconv.Itoa(int(l.Port))
}

// netFiles are the socket tables read per network namespace.
var netFiles = []string{"tcp", "tcp6", "udp", "udp6"}

// Socket states as /proc/net prints them.
const (
	tcpListen = "0A"
	udpClose  = "07" // an unconnected UDP socket
)

// netResult is what parseNet found in one socket table.
type netResult struct {
	listeners []Listener
	// others are the inodes of the table's other sockets (connected,
	// in another state): they will never listen.
	others    []uint64
	malformed int
	cut       bool
}

// parseNet reads a /proc/<pid>/net/{tcp,tcp6,udp,udp6} table
//
//	sl  local_address rem_address   st tx_queue:rx_queue tr:tm->when retrnsmt   uid  timeout inode
//	 0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 41242 1 …
//
// and keeps TCP sockets in LISTEN and UDP sockets bound to a port and
// connected to none. It reads at most maxLines lines.
func parseNet(r io.Reader, proto string, maxLines int) (netResult, error) {
	var res netResult
	udp := strings.HasPrefix(proto, "udp")
	br := getReader(r)
	defer putReader(br)
	for n := 0; ; n++ {
		line, err := readLine(br)
		if err == io.EOF {
			return res, nil
		}
		if err != nil && !errors.Is(err, errLongLine) {
			return res, err
		}
		if n >= maxLines {
			res.cut = true
			return res, nil
		}
		if err != nil {
			res.malformed++
			continue
		}
		f := strings.Fields(line)
		if len(f) == 0 || f[0] == "sl" {
			continue
		}
		l, keep, perr := parseNetFields(f, udp)
		if perr != nil {
			res.malformed++
			continue
		}
		if keep {
			l.Proto = proto
			res.listeners = append(res.listeners, l)
		} else {
			res.others = append(res.others, l.Inode)
		}
	}
}

// parseNetFields parses the fields of one socket line.
func parseNetFields(f []string, udp bool) (Listener, bool, error) {
	if len(f) < 10 {
		return Listener{}, false, fmt.Errorf("%w: %d fields", errMalformed, len(f))
	}
	addr, port, err := parseSockAddr(f[1])
	if err != nil {
		return Listener{}, false, err
	}
	_, rport, err := parseSockAddr(f[2])
	if err != nil {
		return Listener{}, false, err
	}
	ino, err := strconv.ParseUint(f[9], 10, 64)
	if err != nil {
		return Listener{}, false, fmt.Errorf("%w: inode %q", errMalformed, f[9])
	}
	st := strings.ToUpper(f[3])
	keep := st == tcpListen
	if udp {
		keep = st == udpClose && port != 0 && rport == 0
	}
	return Listener{Addr: addr, Port: port, Inode: ino}, keep, nil
}

// parseSockAddr decodes "0100007F:1F90": the address as the kernel prints
// it, in 32-bit words of host byte order, and the port in hex.
func parseSockAddr(s string) (netip.Addr, uint16, error) {
	a, p, ok := strings.Cut(s, ":")
	if !ok {
		return netip.Addr{}, 0, fmt.Errorf("%w: address %q", errMalformed, s)
	}
	port, err := strconv.ParseUint(p, 16, 16)
	if err != nil {
		return netip.Addr{}, 0, fmt.Errorf("%w: port %q", errMalformed, p)
	}
	addr, err := decodeAddr(a)
	if err != nil {
		return netip.Addr{}, 0, err
	}
	return addr, uint16(port), nil
}

// decodeAddr decodes 8 (IPv4) or 32 (IPv6) hex digits printed word by
// word, each word a host-endian 32-bit integer holding network-order bytes.
func decodeAddr(h string) (netip.Addr, error) {
	if len(h) != 8 && len(h) != 32 {
		return netip.Addr{}, fmt.Errorf("%w: address %q", errMalformed, h)
	}
	var b [16]byte
	for i := 0; i*8 < len(h); i++ {
		w, err := strconv.ParseUint(h[i*8:i*8+8], 16, 32)
		if err != nil {
			return netip.Addr{}, fmt.Errorf("%w: address %q", errMalformed, h)
		}
		binary.NativeEndian.PutUint32(b[i*4:], uint32(w))
	}
	if len(h) == 8 {
		return netip.AddrFrom4([4]byte(b[:4])), nil
	}
	return netip.AddrFrom16(b), nil
}

// maxUnknownNS bounds the processes whose network namespace could not be
// read (each is read as a namespace of its own).
const maxUnknownNS = 64

// nsGroup is the processes of one network namespace.
type nsGroup struct {
	ns   uint64
	pids []int
	// sockets are the socket inodes its processes hold.
	sockets []uint64
}

// readListeners reads each network namespace's socket tables once,
// through the first of its processes that is still there, and names the
// processes holding each socket.
func readListeners(ctx context.Context, opts Options, procs []Process, rec *recorder) []Listener {
	var groups []nsGroup
	unknown := 0
	index := map[uint64]int{}
	owners := map[uint64][]int{}
	for _, p := range procs {
		for _, ino := range p.Sockets {
			if o := owners[ino]; len(o) == 0 || o[len(o)-1] != p.PID {
				owners[ino] = append(o, p.PID)
			}
		}
		if p.NetNS == 0 { // unreadable: its own group, up to a bound
			if unknown++; unknown <= maxUnknownNS {
				groups = append(groups, nsGroup{pids: []int{p.PID}, sockets: p.Sockets})
			}
			continue
		}
		if i, ok := index[p.NetNS]; ok {
			groups[i].pids = append(groups[i].pids, p.PID)
			groups[i].sockets = append(groups[i].sockets, p.Sockets...)
			continue
		}
		index[p.NetNS] = len(groups)
		groups = append(groups, nsGroup{ns: p.NetNS, pids: []int{p.PID}, sockets: slices.Clone(p.Sockets)})
	}
	if unknown > maxUnknownNS {
		rec.add(fmt.Sprintf("net: %d processes in unreadable network namespaces; the tables of %d read", unknown, maxUnknownNS))
	}
	// The kernel walks its whole TCP hash for each namespace's table (a
	// few ms even when empty), so namespaces are read in parallel.
	per := make([][]Listener, len(groups))
	recs := make([]recorder, len(groups))
	forEach(ctx, opts.Workers, len(groups), func(i int) {
		recs[i].max = opts.MaxProblems
		per[i] = opts.NetCache.listeners(opts, groups[i], &recs[i])
	})
	opts.NetCache.retain(groups)
	var out []Listener
	seen := map[uint64]bool{}
	for i := range groups {
		for _, p := range recs[i].problems {
			rec.add(p)
		}
		for _, l := range per[i] {
			if seen[l.Inode] {
				continue
			}
			seen[l.Inode] = true
			l.PIDs = slices.Clone(owners[l.Inode])
			out = append(out, l)
		}
	}
	return out
}

// readNamespace reads the four socket tables of one namespace through the
// first of its pids that has not exited.
func readNamespace(opts Options, g nsGroup, rec *recorder) (out []Listener, others []uint64) {
	for _, pid := range g.pids {
		dir := filepath.Join(opts.ProcRoot, strconv.Itoa(pid))
		out, others = nil, nil
		gone := false
		for _, name := range netFiles {
			ls, err := readNetFile(opts, dir, name, pid, rec)
			if err != nil {
				if !isGone(err) {
					rec.add(fmt.Sprintf("pid %d: net/%s: %v", pid, name, err))
					continue
				}
				if _, serr := os.Lstat(filepath.Join(dir, "stat")); serr != nil {
					gone = true
					break
				}
				continue // no such table (IPv6 disabled)
			}
			for i := range ls.listeners {
				ls.listeners[i].NetNS = g.ns
			}
			out = append(out, ls.listeners...)
			others = append(others, ls.others...)
		}
		if !gone {
			return out, others
		}
	}
	return nil, nil
}

// readNetFile reads one socket table.
func readNetFile(opts Options, dir, name string, pid int, rec *recorder) (netResult, error) {
	f, err := os.Open(filepath.Join(dir, "net", name))
	if err != nil {
		return netResult{}, err
	}
	defer f.Close()
	res, err := parseNet(f, name, opts.MaxNetLines)
	if res.cut {
		rec.add(fmt.Sprintf("pid %d: net/%s: cut at %d lines", pid, name, opts.MaxNetLines))
	}
	if res.malformed > 0 {
		rec.add(fmt.Sprintf("pid %d: net/%s: %d malformed lines", pid, name, res.malformed))
	}
	return res, err
}
