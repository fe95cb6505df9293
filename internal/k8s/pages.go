package k8s

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// DefaultPageSize is the list page size when none is given.
const DefaultPageSize = 500

// MaxListRestarts bounds how often one list starts over after its continue
// token expired (410 Gone: the list took longer than the API server keeps
// its snapshot).
const MaxListRestarts = 3

// ErrListExpired is matched by the error ListPages returns when the
// continue token expired again after MaxListRestarts restarts.
var ErrListExpired = errors.New("continue token expired")

// PageFunc reads one page of a list: its items and the continue token for
// the next page ("" after the last one). API's list methods are PageFuncs
// once bound to a namespace (see In).
type PageFunc[T any] func(ctx context.Context, opts metav1.ListOptions) ([]T, string, error)

// In binds a namespaced list method of API to namespace ("" for all).
func In[T any](list func(context.Context, string, metav1.ListOptions) ([]T, string, error), namespace string) PageFunc[T] {
	return func(ctx context.Context, opts metav1.ListOptions) ([]T, string, error) {
		return list(ctx, namespace, opts)
	}
}

// ListPages reads a paginated list to its end, pageSize items at a time (0
// means DefaultPageSize), and hands each page to page, so the caller can
// reduce it before the next one is read. fromStart is true for the first
// page of the list.
//
// There is one restart rule: when the continue token expires (410 Gone),
// the list starts again from the beginning, and page sees fromStart true
// again, so a caller that keeps items drops what it kept (one that keys
// them, by UID or name, may simply see them again). After MaxListRestarts
// restarts the next expiry is returned as an error matching
// ErrListExpired, for the caller to report as a Problem. Any other error
// ends the list.
func ListPages[T any](ctx context.Context, pageSize int64, list PageFunc[T], page func(items []T, fromStart bool)) error {
	if pageSize <= 0 {
		pageSize = DefaultPageSize
	}
	opts := metav1.ListOptions{Limit: pageSize}
	restarts := 0
	fromStart := true
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		items, cont, err := list(ctx, opts)
		if err != nil {
			if !apierrors.IsResourceExpired(err) || opts.Continue == "" {
				return err
			}
			if restarts == MaxListRestarts {
				return fmt.Errorf("%w %d times, the list restarted from the beginning each time: %w", ErrListExpired, restarts+1, err)
			}
			restarts++
			opts.Continue = ""
			fromStart = true
			continue
		}
		page(items, fromStart)
		fromStart = false
		if cont == "" {
			return nil
		}
		opts.Continue = cont
	}
}

// ListAll reads a whole list with ListPages and returns its items; after a
// restart only the items of the last, complete pass are kept.
func ListAll[T any](ctx context.Context, pageSize int64, list PageFunc[T]) ([]T, error) {
	var out []T
	err := ListPages(ctx, pageSize, list, func(items []T, fromStart bool) {
		if fromStart {
			out = out[:0]
		}
		out = append(out, items...)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Scopes returns the namespaces to list in: all ("") when none are chosen,
// else the chosen ones.
func Scopes(namespaces []string) []string {
	if len(namespaces) == 0 {
		return []string{metav1.NamespaceAll}
	}
	return namespaces
}
