// Package cri lists a node's running containers through the Container
// Runtime Interface on the runtime's unix socket (containerd, CRI-O): the
// pod each belongs to, its image reference and manifest digest, its init
// process and cgroup, and when it started; Watch re-lists periodically and
// reports the containers that started and stopped.
//
// It reads only: it never creates, stops or execs into anything, and it
// asks the runtime for nothing but status.
package cri

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// ErrNotCRI is returned by Dial when something listens on the socket but
// does not answer the CRI v1 RuntimeService.
var ErrNotCRI = errors.New("no CRI v1 runtime on the socket")

// DialTimeout bounds Dial's first call (Version), which proves the socket
// speaks CRI.
const DialTimeout = 10 * time.Second

// maxMessageBytes caps one CRI reply: a verbose status carries the whole
// runtime spec, and a node may list thousands of containers.
const maxMessageBytes = 32 << 20

// Client is a read-only CRI connection to one runtime.
type Client struct {
	conn   *grpc.ClientConn
	rt     runtimeapi.RuntimeServiceClient
	images runtimeapi.ImageServiceClient
	// Runtime and RuntimeVersion are what the runtime calls itself
	// ("containerd", "v1.6.20").
	Runtime, RuntimeVersion string
	socket                  string
}

// Dial connects to the CRI runtime listening on the unix socket at path
// and checks that it answers the CRI v1 Version call. A missing path, a
// path that is no socket, and a socket that speaks no CRI are told apart
// in the error (the last wraps ErrNotCRI).
func Dial(ctx context.Context, socket string) (*Client, error) {
	abs, err := filepath.Abs(socket)
	if err != nil {
		return nil, fmt.Errorf("CRI socket %s: %w", socket, err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("CRI socket %s: %w", socket, err)
	}
	if st.Mode().Type() != fs.ModeSocket {
		return nil, fmt.Errorf("CRI socket %s: not a unix socket (%s)", socket, st.Mode().Type())
	}
	conn, err := grpc.NewClient("unix://"+abs,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMessageBytes)))
	if err != nil {
		return nil, fmt.Errorf("CRI socket %s: %w", socket, err)
	}
	c := &Client{
		conn:   conn,
		rt:     runtimeapi.NewRuntimeServiceClient(conn),
		images: runtimeapi.NewImageServiceClient(conn),
		socket: socket,
	}
	vctx, cancel := context.WithTimeout(ctx, DialTimeout)
	defer cancel()
	v, err := c.rt.Version(vctx, &runtimeapi.VersionRequest{})
	if err != nil {
		conn.Close()
		switch status.Code(err) {
		case codes.Unimplemented:
			return nil, fmt.Errorf("CRI socket %s: %w: %w", socket, ErrNotCRI, err)
		case codes.Unavailable, codes.DeadlineExceeded:
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("CRI socket %s: %w (no gRPC server answered): %w", socket, ErrNotCRI, err)
		}
		return nil, fmt.Errorf("CRI socket %s: version: %w", socket, err)
	}
	c.Runtime, c.RuntimeVersion = v.GetRuntimeName(), v.GetRuntimeVersion()
	return c, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Socket is the path Dial was given.
func (c *Client) Socket() string { return c.socket }
