// Package usage marks mistakes in a command line: a package that checks
// options taken from flags returns an *Error, and the command maps it to
// its bad-usage exit code, whatever package found it.
package usage

import (
	"errors"
	"fmt"
)

// Error is a mistake in the command line; its message names the flag.
type Error struct {
	msg string
}

// Errorf returns an *Error with a formatted message.
func Errorf(format string, args ...any) *Error {
	return &Error{msg: fmt.Sprintf(format, args...)}
}

// Error implements error.
func (e *Error) Error() string { return e.msg }

// Is reports whether err is or wraps an *Error.
func Is(err error) bool {
	var u *Error
	return errors.As(err, &u)
}
