package evidence

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
)

// maxDocumentBytes bounds one evidence document.
const maxDocumentBytes = 256 << 20

// Load reads evidence documents from files and from agents' URLs
// (`http://node:9090/v1/evidence`, as `runlens agent --listen` serves
// them), in order. A source that cannot be read, is not an evidence
// document or is of a newer major schema fails the whole load with an
// error naming it: evidence is never skipped silently.
func Load(ctx context.Context, client *http.Client, sources []string) ([]*Document, error) {
	var docs []*Document
	for _, src := range sources {
		d, err := loadOne(ctx, client, src)
		if err != nil {
			return nil, fmt.Errorf("evidence %s: %w", redact(src), err)
		}
		docs = append(docs, d)
	}
	return docs, nil
}

func loadOne(ctx context.Context, client *http.Client, src string) (*Document, error) {
	var r io.Reader
	if strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://") {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("agent answered %s", resp.Status)
		}
		r = resp.Body
	} else {
		f, err := os.Open(src)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	return Read(r)
}

// Read decodes one evidence document.
func Read(r io.Reader) (*Document, error) {
	lr := &io.LimitedReader{R: r, N: maxDocumentBytes + 1}
	var d Document
	dec := json.NewDecoder(lr)
	if err := dec.Decode(&d); err != nil {
		if lr.N <= 0 {
			return nil, fmt.Errorf("larger than %d bytes", maxDocumentBytes)
		}
		return nil, fmt.Errorf("not an evidence document: %w", err)
	}
	switch {
	case d.SchemaVersion == "":
		return nil, errors.New("not an evidence document: no schema_version")
	case major(d.SchemaVersion) != major(SchemaVersion):
		return nil, fmt.Errorf("schema %s: this runlens reads %s", d.SchemaVersion, SchemaVersion)
	}
	return &d, nil
}

func major(v string) string {
	m, _, _ := strings.Cut(v, ".")
	return m
}

// redact hides a password written into an agent's URL.
func redact(src string) string {
	if u, err := url.Parse(src); err == nil && u.User != nil {
		return u.Redacted()
	}
	return src
}
