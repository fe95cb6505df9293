package main

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/runlens/runlens/internal/layerfs"
	"github.com/runlens/runlens/internal/report"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/server"
	"github.com/runlens/runlens/internal/usage"
)

// pushTimeout bounds one push of a result to a server.
const pushTimeout = 10 * time.Minute

// pushOptions are the --push flags of the scan commands.
type pushOptions struct {
	url       string
	tokenFile string
	cluster   string
}

// registerPush adds the --push flags to every scan subcommand.
func (o *pushOptions) registerPush(cmd *cobra.Command) {
	f := cmd.PersistentFlags()
	f.StringVar(&o.url, "push", "", "after the scan, send the JSON result (gzip) to this runlens server (https://runlens.example.com); the inventories are included")
	f.StringVar(&o.tokenFile, "push-token-file", "", "file holding the server token (default $RUNLENS_TOKEN); never printed")
	f.StringVar(&o.cluster, "push-cluster", "", "cluster the result is stored under (default the result's one cluster; required for image and registry scans)")
	// The flags are checked before the scan starts, after the root's
	// own setup (a command's PersistentPreRunE replaces its parents').
	cmd.PersistentPreRunE = func(c *cobra.Command, args []string) error {
		if pre := c.Root().PersistentPreRunE; pre != nil {
			if err := pre(c, args); err != nil {
				return err
			}
		}
		return o.check()
	}
}

// maxTokenFile bounds what --push-token-file may hold.
const maxTokenFile = 4 << 10

// pushToken reads the token --push-token-file or RUNLENS_TOKEN gives.
func (o *pushOptions) pushToken() (string, error) {
	if o.tokenFile == "" {
		return strings.TrimSpace(os.Getenv("RUNLENS_TOKEN")), nil
	}
	// Opened without blocking and refused unless a regular file: a FIFO
	// or a device here would hang the push.
	f, err := layerfs.OpenFile(o.tokenFile)
	if err != nil {
		return "", usage.Errorf("--push-token-file: %v", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxTokenFile+1))
	if err != nil {
		return "", usage.Errorf("--push-token-file: %v", err)
	}
	if len(b) > maxTokenFile {
		return "", usage.Errorf("--push-token-file: over %d bytes: not a token file", maxTokenFile)
	}
	return strings.TrimSpace(string(b)), nil
}

// check validates the push flags before a scan starts.
func (o *pushOptions) check() error {
	if o.url == "" {
		if o.tokenFile != "" || o.cluster != "" {
			return usage.Errorf("--push-token-file and --push-cluster need --push URL")
		}
		return nil
	}
	u, err := url.Parse(o.url)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usage.Errorf("--push: want the server's http:// or https:// URL, got %q", o.url)
	}
	_, err = o.pushToken()
	return err
}

// pushParts returns the documents to push and their clusters: one per
// cluster of a cluster scan, or the whole result under --push-cluster.
func (o *pushOptions) pushParts(doc *result.Document) ([]*result.Document, []string, error) {
	if len(doc.Summary.Clusters) == 0 || (o.cluster != "" && len(doc.Summary.Clusters) == 1 && doc.Summary.Clusters[0].Name == o.cluster) {
		if o.cluster == "" {
			return nil, nil, errors.New("--push: the result names no cluster: give --push-cluster")
		}
		return []*result.Document{doc}, []string{o.cluster}, nil
	}
	if o.cluster != "" {
		return nil, nil, fmt.Errorf("--push-cluster %s: the result is of cluster(s) %s", o.cluster, clusterNames(doc))
	}
	parts := server.SplitClusters(doc)
	names := make([]string, len(parts))
	for i, p := range parts {
		names[i] = p.Summary.Clusters[0].Name
	}
	return parts, names, nil
}

func clusterNames(doc *result.Document) string {
	var n []string
	for _, c := range doc.Summary.Clusters {
		n = append(n, c.Name)
	}
	return strings.Join(n, ", ")
}

// pushResult sends the result to the --push server, a cluster at a
// time; a failure is the command's error (the report is written first).
func (a *app) pushResult(doc *result.Document) error {
	o := &a.push
	if o.url == "" {
		return nil
	}
	token, err := o.pushToken()
	if err != nil {
		return err
	}
	parts, names, err := o.pushParts(doc)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), pushTimeout)
	defer cancel()
	for i, part := range parts {
		stats, err := pushOne(ctx, o.url, names[i], token, part)
		if err != nil {
			return fmt.Errorf("--push: cluster %s to %s: %w", names[i], redactURL(o.url), err)
		}
		a.log.Info("result pushed", "server", redactURL(o.url), "cluster", names[i], "risks", stats.Risks, "appeared", stats.Appeared, "disappeared", stats.Disappeared)
	}
	return nil
}

// pushStats is the server's answer to a push.
type pushStats struct {
	Risks, Appeared, Disappeared int
}

// pushOne POSTs one cluster's result, gzip-compressed as it is written.
func pushOne(ctx context.Context, base, cluster, token string, doc *result.Document) (pushStats, error) {
	json_, err := report.Lookup("json")
	if err != nil {
		return pushStats{}, err
	}
	pr, pw := io.Pipe()
	go func() {
		zw := gzip.NewWriter(pw)
		err := json_.Write(zw, doc, report.Options{ListPackages: true})
		if cerr := zw.Close(); err == nil {
			err = cerr
		}
		pw.CloseWithError(err)
	}()
	endpoint := strings.TrimRight(base, "/") + "/api/v1/clusters/" + url.PathEscape(cluster) + "/results"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, pr)
	if err != nil {
		pr.Close()
		return pushStats{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return pushStats{}, errors.New(strings.ReplaceAll(err.Error(), token, "xxxxx"))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			return pushStats{}, fmt.Errorf("server answered %s: %s", resp.Status, e.Error)
		}
		return pushStats{}, fmt.Errorf("server answered %s", resp.Status)
	}
	var st pushStats
	if err := json.Unmarshal(body, &st); err != nil {
		return pushStats{}, fmt.Errorf("server's answer: %w", err)
	}
	return st, nil
}

// redactURL hides credentials written into a URL.
func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.Redacted()
	}
	return s
}
