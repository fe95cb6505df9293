package k8s

import (
	"errors"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/runlens/runlens/internal/workload"
)

// maxDescribed bounds how much of an error's text a Problem quotes.
const maxDescribed = 200

// Describe names an API error briefly, for a Problem: "forbidden",
// "unauthorized", "not served", the expired-list rule of ListPages, or
// else the error's own text cut to a few hundred bytes, so a server's
// full answer is never echoed.
func Describe(err error) string {
	switch {
	case apierrors.IsForbidden(err):
		return "forbidden"
	case apierrors.IsUnauthorized(err):
		return "unauthorized"
	case apierrors.IsNotFound(err):
		return "not served"
	case errors.Is(err, ErrListExpired):
		return fmt.Sprintf("continue token expired %d times, restarted from the beginning each time", MaxListRestarts+1)
	}
	s := strings.TrimSpace(err.Error())
	if len(s) > maxDescribed {
		s = s[:maxDescribed] + "…"
	}
	return s
}

// ListProblem is the Problem for a kind that could not be listed, in one
// wording: "cannot list KIND (WHY): CONSEQUENCE".
func ListProblem(cluster, kind string, err error, consequence string) workload.Problem {
	return workload.Problem{Cluster: cluster, Kind: kind, Reason: fmt.Sprintf("cannot list %s (%s): %s", kind, Describe(err), consequence)}
}

// IsDenied reports whether err is the API server refusing this identity
// or not serving the kind (forbidden, unauthorized, not found), rather
// than a failure that might pass on another try.
func IsDenied(err error) bool {
	return apierrors.IsForbidden(err) || apierrors.IsNotFound(err) || apierrors.IsUnauthorized(err)
}
