package scan

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"
)

// SignalError is the cancellation cause a command gives its context when
// the process receives SIGINT or SIGTERM.
type SignalError struct {
	Signal os.Signal
}

// Error implements error.
func (e *SignalError) Error() string { return "interrupted by signal " + e.Signal.String() }

// TimeoutError is the cancellation cause of a command's overall deadline.
// It matches context.DeadlineExceeded.
type TimeoutError struct {
	Timeout time.Duration
}

// Error implements error.
func (e *TimeoutError) Error() string {
	return fmt.Sprintf("deadline exceeded (the scan's time limit of %s ran out)", e.Timeout)
}

// Unwrap makes errors.Is(err, context.DeadlineExceeded) true.
func (e *TimeoutError) Unwrap() error { return context.DeadlineExceeded }

// ErrInterrupted is matched by the errors Interrupted returns.
var ErrInterrupted = errors.New("scan interrupted")

// Interrupted says why ctx ended, as the reason recorded on every result a
// cancelled scan did not finish: "scan interrupted: deadline exceeded (...)"
// or "scan interrupted by signal terminated". It matches ErrInterrupted and
// the context's cause. It returns nil while ctx is live.
func Interrupted(ctx context.Context) error {
	if ctx.Err() == nil {
		return nil
	}
	cause := context.Cause(ctx)
	var sig *SignalError
	if errors.As(cause, &sig) {
		return &interruptedError{msg: "scan " + sig.Error(), cause: cause}
	}
	if cause == context.DeadlineExceeded {
		return &interruptedError{msg: "scan interrupted: deadline exceeded", cause: cause}
	}
	return &interruptedError{msg: "scan interrupted: " + cause.Error(), cause: cause}
}

type interruptedError struct {
	msg   string
	cause error
}

func (e *interruptedError) Error() string { return e.msg }

func (e *interruptedError) Is(target error) bool { return target == ErrInterrupted }

func (e *interruptedError) Unwrap() error { return e.cause }
