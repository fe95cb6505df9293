package k8s

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// pagedList serves items pageSize at a time with continue tokens
// "p1", "p2", …; expire decides, per request, to answer 410 Gone instead.
type pagedList struct {
	items  []string
	expire func(call int, opts metav1.ListOptions) bool
	calls  []metav1.ListOptions
}

func (l *pagedList) page(_ context.Context, opts metav1.ListOptions) ([]string, string, error) {
	l.calls = append(l.calls, opts)
	if l.expire != nil && l.expire(len(l.calls), opts) {
		return nil, "", apierrors.NewResourceExpired("the provided continue parameter is too old")
	}
	start := 0
	if opts.Continue != "" {
		fmt.Sscanf(opts.Continue, "p%d", &start)
	}
	end := min(start+int(opts.Limit), len(l.items))
	next := ""
	if end < len(l.items) {
		next = fmt.Sprintf("p%d", end)
	}
	return l.items[start:end], next, nil
}

// TestListPagesRestartsFromTheBeginning: an expired continue token starts
// the list over from its first page, with the same page size, and the
// caller sees fromStart again, so ListAll keeps one complete pass.
func TestListPagesRestartsFromTheBeginning(t *testing.T) {
	l := &pagedList{items: []string{"a", "b", "c", "d", "e"}, expire: func(call int, opts metav1.ListOptions) bool {
		return call == 3 // the third page of the first pass
	}}
	var starts int
	var seen []string
	err := ListPages(context.Background(), 2, l.page, func(items []string, fromStart bool) {
		if fromStart {
			starts++
		}
		seen = append(seen, items...)
	})
	if err != nil {
		t.Fatal(err)
	}
	if starts != 2 {
		t.Errorf("fromStart seen %d times, want 2 (the first pass and the restart)", starts)
	}
	if diff := cmp.Diff([]string{"a", "b", "c", "d", "a", "b", "c", "d", "e"}, seen); diff != "" {
		t.Errorf("pages (-want +got):\n%s", diff)
	}
	wantCalls := []metav1.ListOptions{{Limit: 2}, {Limit: 2, Continue: "p2"}, {Limit: 2, Continue: "p4"},
		{Limit: 2}, {Limit: 2, Continue: "p2"}, {Limit: 2, Continue: "p4"}}
	if diff := cmp.Diff(wantCalls, l.calls); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}

	l = &pagedList{items: []string{"a", "b", "c"}, expire: func(call int, _ metav1.ListOptions) bool { return call == 2 }}
	all, err := ListAll(context.Background(), 2, l.page)
	if err != nil || !cmp.Equal(all, []string{"a", "b", "c"}) {
		t.Errorf("ListAll after a restart = %v, %v; want one pass", all, err)
	}
}

// TestListPagesRestartsAreBounded (rule K1): a token that keeps expiring
// ends the list after MaxListRestarts restarts with an error matching
// ErrListExpired, which Describe and ListProblem word as a Problem.
func TestListPagesRestartsAreBounded(t *testing.T) {
	l := &pagedList{items: []string{"a", "b", "c"}, expire: func(_ int, opts metav1.ListOptions) bool { return opts.Continue != "" }}
	err := ListPages(context.Background(), 1, l.page, func([]string, bool) {})
	if !errors.Is(err, ErrListExpired) || !apierrors.IsResourceExpired(err) {
		t.Fatalf("err = %v, want ErrListExpired wrapping the 410", err)
	}
	if got, want := len(l.calls), 2*(MaxListRestarts+1); got != want {
		t.Errorf("%d requests, want %d (%d passes of two requests)", got, want, MaxListRestarts+1)
	}
	p := ListProblem("prod", "pods", err, "workloads unknown")
	want := fmt.Sprintf("cannot list pods (continue token expired %d times, restarted from the beginning each time): workloads unknown", MaxListRestarts+1)
	if p.Reason != want || p.Kind != "pods" || p.Cluster != "prod" {
		t.Errorf("problem = %+v, want reason %q", p, want)
	}
}

// TestListPagesOtherErrors: a 410 on the first page (no token to expire)
// and other errors end the list at once; a cancelled context stops it
// before the next page.
func TestListPagesOtherErrors(t *testing.T) {
	l := &pagedList{items: []string{"a"}, expire: func(int, metav1.ListOptions) bool { return true }}
	if err := ListPages(context.Background(), 1, l.page, func([]string, bool) {}); !apierrors.IsResourceExpired(err) || errors.Is(err, ErrListExpired) || len(l.calls) != 1 {
		t.Errorf("410 on the first page: err = %v after %d requests", err, len(l.calls))
	}
	ctx, cancel := context.WithCancel(context.Background())
	l = &pagedList{items: []string{"a", "b", "c"}}
	err := ListPages(ctx, 1, l.page, func([]string, bool) { cancel() })
	if !errors.Is(err, context.Canceled) || len(l.calls) != 1 {
		t.Errorf("cancelled: err = %v after %d requests", err, len(l.calls))
	}
}

func TestDescribe(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want string
	}{
		{apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, "", errors.New("no")), "forbidden"},
		{apierrors.NewUnauthorized("who"), "unauthorized"},
		{apierrors.NewNotFound(schema.GroupResource{Resource: "httproutes"}, ""), "not served"},
		{errors.New(strings.Repeat("x", 300)), strings.Repeat("x", maxDescribed) + "…"},
	} {
		if got := Describe(tt.err); got != tt.want {
			t.Errorf("Describe(%.40v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}
