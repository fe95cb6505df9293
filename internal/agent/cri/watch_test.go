package cri

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestWatch(t *testing.T) {
	f := &fakeCRI{sandboxes: map[string]*runtimeapi.PodSandboxMetadata{"sb": {Name: "p", Namespace: "n", Uid: uidA}}}
	ctr := func(c byte) fakeContainer {
		return fakeContainer{id: hex64(c), sandbox: "sb", name: "c" + string(c), state: running(), pid: int(c),
			imageRef: "r@sha256:" + hex64('d')}
	}
	f.set([]fakeContainer{ctr('a'), ctr('b')})
	c, err := Dial(context.Background(), serveFake(t, f))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	changes := make(chan Change, 16)
	done := make(chan error, 1)
	go func() { done <- c.Watch(ctx, 5*time.Millisecond, func(ch Change) { changes <- ch }) }()

	next := func(what string) Change {
		t.Helper()
		select {
		case ch := <-changes:
			return ch
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: no change reported", what)
		}
		return Change{}
	}
	names := func(ch Change) (started, stopped string) {
		var s, p []string
		for _, c := range ch.Started {
			s = append(s, c.Name)
		}
		for _, c := range ch.Stopped {
			p = append(p, c.Name)
		}
		return strings.Join(s, ","), strings.Join(p, ",")
	}

	ch := next("first list")
	if s, p := names(ch); s != "ca,cb" || p != "" || ch.Err != nil || ch.At.IsZero() {
		t.Errorf("first list: started %q stopped %q err %v", s, p, ch.Err)
	}
	if ch.Started[0].PodUID != uidA || ch.Started[0].PIDs[0] != 'a' {
		t.Errorf("started container not fully read: %+v", ch.Started[0])
	}

	// a stops, c starts (a restart gives a new id).
	f.set([]fakeContainer{ctr('b'), ctr('c')})
	ch = next("a stopped, c started")
	if s, p := names(ch); s != "cc" || p != "ca" {
		t.Errorf("second change: started %q stopped %q", s, p)
	}

	// c cannot be read: reported as an error, not as stopped.
	broken := ctr('c')
	broken.statusErr = status.Error(codes.Internal, "boom")
	f.set([]fakeContainer{ctr('b'), broken})
	ch = next("c unreadable")
	if s, p := names(ch); s != "" || p != "" || ch.Err == nil || !strings.Contains(ch.Err.Error(), "boom") {
		t.Errorf("unreadable container: started %q stopped %q err %v", s, p, ch.Err)
	}
	// Readable again: nothing changed, so nothing is reported until b stops.
	f.set([]fakeContainer{ctr('c')})
	ch = next("b stopped")
	if s, p := names(ch); s != "" || p != "cb" || ch.Err != nil {
		t.Errorf("b stopped: started %q stopped %q err %v", s, p, ch.Err)
	}

	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Watch returned %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Watch did not return after cancel")
	}
	if err := c.Watch(context.Background(), 0, func(Change) {}); err == nil {
		t.Error("zero period accepted")
	}
}
