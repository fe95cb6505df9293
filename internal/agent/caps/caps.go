// Package caps holds the node agent's Linux capabilities: the ones it
// needs and why, a check that names what is missing before the agent
// starts reading, and Drop, which leaves the process with only those.
//
// The agent runs as root on the node but not privileged: it reads other
// processes' /proc entries and their files, and loads BPF programs. It
// never writes to a container, changes an owner, mounts, or executes
// anything from a container, so every other capability is dropped.
package caps

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// The capabilities the agent names (linux/capability.h).
const (
	CapDacReadSearch Cap = 2
	CapSetPCap       Cap = 8
	CapSysPtrace     Cap = 19
	CapSysResource   Cap = 24
	CapPerfmon       Cap = 38
	CapBPF           Cap = 39
)

// Cap is one capability number (unix.CAP_*).
type Cap int

// Set is a set of capabilities as the kernel's 64-bit masks hold them.
type Set uint64

// Of returns the set of cs.
func Of(cs ...Cap) Set {
	var s Set
	for _, c := range cs {
		s |= 1 << uint(c)
	}
	return s
}

// Has reports whether c is in s.
func (s Set) Has(c Cap) bool { return s&(1<<uint(c)) != 0 }

// String lists s by name, "cap_bpf,cap_sys_ptrace"; "none" when empty.
func (s Set) String() string {
	var names []string
	for c := Cap(0); c < 64; c++ {
		if s.Has(c) {
			names = append(names, c.String())
		}
	}
	if len(names) == 0 {
		return "none"
	}
	sort.Strings(names)
	return strings.Join(names, ",")
}

// String is the capability's name as capsh spells it.
func (c Cap) String() string {
	if n, ok := names[c]; ok {
		return n
	}
	return fmt.Sprintf("cap_%d", int(c))
}

// Need is one capability the agent uses and why.
type Need struct {
	Cap Cap
	// Required says the agent cannot do its job without it (Check fails);
	// the others are needed only by parts that can be off (the tracer).
	Required bool
	Why      string
}

// Agent are the capabilities of `runlens agent`. CAP_SYS_RESOURCE is not
// among them: kernels since 5.11 charge BPF maps to the memory cgroup,
// not to RLIMIT_MEMLOCK, so the limit need not be raised.
var Agent = []Need{
	{CapSysPtrace, true, "follow other processes' /proc/<pid>/{exe,cwd,root,fd/*,ns/net} links (the kernel's ptrace access check; a container's processes have capabilities the agent has not)"},
	{CapDacReadSearch, true, "read files inside containers through /proc/<pid>/root whatever their owner and mode (a 0700 directory of another user)"},
	{CapBPF, false, "load the tracer's BPF programs and maps"},
	{CapPerfmon, false, "attach the tracer to tracepoints and read its ring buffer"},
}

// Keep is the set of Agent.
func Keep() Set {
	var s Set
	for _, n := range Agent {
		s |= Of(n.Cap)
	}
	return s
}

// State is the calling thread's capability sets.
type State struct {
	Effective, Permitted, Inheritable Set
}

// MissingError names the required capabilities a process lacks.
type MissingError struct {
	Missing []Need
}

// Error implements error.
func (e *MissingError) Error() string {
	var b strings.Builder
	for i, n := range e.Missing {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "missing capability %s: needed to %s", strings.ToUpper(n.Cap.String()), n.Why)
	}
	b.WriteString(" (run as root with it: securityContext.capabilities.add, see docs/agent.md)")
	return b.String()
}

// Check returns a *MissingError naming the required capabilities of
// Agent not in have's effective set.
func Check(have State) error {
	var miss []Need
	for _, n := range Agent {
		if n.Required && !have.Effective.Has(n.Cap) {
			miss = append(miss, n)
		}
	}
	if len(miss) > 0 {
		return &MissingError{Missing: miss}
	}
	return nil
}

// ErrThreads is returned by Drop when the capabilities of every thread
// cannot be changed at once: a cgo build, where the Go runtime cannot
// run capset on the threads C code started (build with CGO_ENABLED=0,
// as the agent's image is).
var ErrThreads = errors.New("capabilities cannot be changed on every thread of a cgo build")
