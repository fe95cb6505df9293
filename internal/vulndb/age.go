package vulndb

import (
	"fmt"
	"time"
)

// StaleError is a database older than the age a command allows
// (--max-db-age); commands give it its own exit code.
type StaleError struct {
	// Age is how old the database is; MaxAge what was allowed.
	Age, MaxAge time.Duration
}

// Error implements error.
func (e *StaleError) Error() string {
	return fmt.Sprintf("vulnerability database is %s old, older than --max-db-age %s; run: runlens db update", e.Age.Round(time.Minute), e.MaxAge)
}

// CheckAge returns a *StaleError when the database md describes is older
// than maxAge at now; a maxAge of 0 or less allows any age.
func CheckAge(md Metadata, maxAge time.Duration, now time.Time) error {
	if maxAge <= 0 {
		return nil
	}
	if age := md.Age(now); age > maxAge {
		return &StaleError{Age: age, MaxAge: maxAge}
	}
	return nil
}
