//go:build !linux

package caps

import "errors"

var errNotLinux = errors.New("capabilities: not Linux")

// Current reads the calling thread's capabilities (Linux only).
func Current() (State, error) { return State{}, errNotLinux }

// Drop leaves the process with keep (Linux only).
func Drop(Set) (State, error) { return State{}, errNotLinux }
