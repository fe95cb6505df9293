package procscan

import (
	"cmp"
	"slices"
)

// groupContainers gathers the processes attributed to a container, each
// executable, mapped file and open file once per container, and the
// listeners its processes hold.
func groupContainers(procs []Process, listeners []Listener) map[string]*Container {
	out := map[string]*Container{}
	type sets struct {
		exes, open map[fileKey]bool
		mapped     map[fileKey]int
	}
	seen := map[string]*sets{}
	byPID := map[int]*Container{}
	for i := range procs {
		p := &procs[i]
		a := p.Attribution
		if a.ContainerID == "" {
			continue
		}
		c, ok := out[a.ContainerID]
		if !ok {
			c = &Container{ID: a.ContainerID, PodUID: a.PodUID, Runtime: a.Runtime, QoS: a.QoS, CgroupPath: a.Cgroup}
			out[a.ContainerID] = c
			seen[a.ContainerID] = &sets{exes: map[fileKey]bool{}, open: map[fileKey]bool{}, mapped: map[fileKey]int{}}
		}
		s := seen[a.ContainerID]
		c.PIDs = append(c.PIDs, p.PID)
		byPID[p.PID] = c
		if p.Exe.Path != "" && !s.exes[p.Exe.key()] {
			s.exes[p.Exe.key()] = true
			c.Exes = append(c.Exes, p.Exe)
		}
		for _, m := range p.Maps {
			if j, dup := s.mapped[m.key()]; dup {
				c.Mapped[j].Exec = c.Mapped[j].Exec || m.Exec
				continue
			}
			s.mapped[m.key()] = len(c.Mapped)
			c.Mapped = append(c.Mapped, m)
		}
		for _, f := range p.Files {
			if !s.open[f.key()] {
				s.open[f.key()] = true
				c.Open = append(c.Open, f)
			}
		}
	}
	for _, l := range listeners {
		var last *Container
		for _, pid := range l.PIDs {
			if c := byPID[pid]; c != nil && c != last {
				if len(c.Listeners) == 0 || c.Listeners[len(c.Listeners)-1].Inode != l.Inode {
					c.Listeners = append(c.Listeners, l)
				}
				last = c
			}
		}
	}
	for _, c := range out {
		slices.SortFunc(c.Exes, compareFile)
		slices.SortFunc(c.Open, compareFile)
		slices.SortFunc(c.Mapped, func(a, b Mapping) int { return compareFile(a.FileID, b.FileID) })
	}
	return out
}

// internPaths makes processes that name the same file share one string
// for its path (every process maps libc), so a snapshot of a busy node
// keeps each path once.
func internPaths(procs []Process) {
	seen := map[string]string{}
	in := func(s string) string {
		if t, ok := seen[s]; ok {
			return t
		}
		seen[s] = s
		return s
	}
	for i := range procs {
		p := &procs[i]
		p.Exe.Path = in(p.Exe.Path)
		p.Cwd = in(p.Cwd)
		p.Cgroup = in(p.Cgroup)
		for j := range p.Maps {
			p.Maps[j].Path = in(p.Maps[j].Path)
		}
		for j := range p.Files {
			p.Files[j].Path = in(p.Files[j].Path)
		}
	}
}

// compareFile orders files by path, then device and inode.
func compareFile(a, b FileID) int {
	return cmp.Or(cmp.Compare(a.Path, b.Path), cmp.Compare(a.Dev.Major, b.Dev.Major),
		cmp.Compare(a.Dev.Minor, b.Dev.Minor), cmp.Compare(a.Inode, b.Inode))
}
