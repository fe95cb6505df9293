package vulndb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DefaultNVDAPI is the NVD CVE API 2.0 endpoint.
const DefaultNVDAPI = "https://services.nvd.nist.gov/rest/json/cves/2.0"

// EnvNVDAPIKey names the environment variable holding an NVD API key.
const EnvNVDAPIKey = "RUNLENS_NVD_API_KEY"

// NVD's published limits: 5 requests in a rolling 30-second window without
// an API key, 50 with one; pages of at most 2,000 CVEs; a lastModified
// range of at most 120 days.
const (
	nvdWindow        = 30 * time.Second
	nvdRequestsNoKey = 5
	nvdRequestsKey   = 50
	nvdMaxPage       = 2000
	nvdMaxRange      = 120 * 24 * time.Hour
	nvdAttempts      = 6
	nvdMaxRetryAfter = 10 * time.Minute
)

// NVDAPIOptions configures an NVD API source.
type NVDAPIOptions struct {
	// APIKey is sent in the apiKey header and raises the rate limit; it is
	// never stored or shown.
	APIKey string
	// Requests per Window override NVD's published rate limit (for a
	// mirror, or tests); zero keeps it.
	Requests int
	Window   time.Duration
	// PageSize is resultsPerPage (default and maximum 2,000).
	PageSize int
}

// NVDAPI fetches CVE metrics from the NVD CVE API 2.0 at base (empty:
// DefaultNVDAPI), paced to NVD's rate limit and honouring Retry-After.
// When the current database holds a sync of the same base from less than
// 120 days ago, only the CVEs modified since (lastModStartDate) are
// fetched and the rest of its NVD data is carried over; otherwise every
// CVE is fetched.
func NVDAPI(base string, opt NVDAPIOptions) Source {
	if base == "" {
		base = DefaultNVDAPI
	}
	return Source{Kind: KindNVDAPI, Location: strings.TrimRight(base, "/"), NVDOptions: &opt}
}

func (r *metricsReader) readNVDAPI(ctx context.Context, s Source) error {
	var opt NVDAPIOptions
	if s.NVDOptions != nil {
		opt = *s.NVDOptions
	}
	start := r.im.now()
	q := url.Values{}
	incremental := false
	if db, err := Open(ctx, r.dir); err == nil {
		since, ok := lastNVDSync(db.meta, s.Location, start)
		n := 0
		if ok {
			n, err = r.carryNVD(ctx, db)
		}
		db.Close()
		if err != nil {
			return err
		}
		if n > 0 {
			incremental = true
			q.Set("lastModStartDate", nvdTime(since))
			q.Set("lastModEndDate", nvdTime(start))
		}
	}
	pageSize := opt.PageSize
	if pageSize <= 0 || pageSize > nvdMaxPage {
		pageSize = nvdMaxPage
	}
	w := newRateWindow(opt)
	for index := 0; ; {
		q.Set("resultsPerPage", strconv.Itoa(pageSize))
		q.Set("startIndex", strconv.Itoa(index))
		u := s.Location + "?" + q.Encode()
		n, total, err := r.nvdPage(ctx, u, opt.APIKey, w)
		if err != nil {
			return err
		}
		index += n
		if index >= total {
			break
		}
		if n == 0 {
			return fmt.Errorf("NVD API page at startIndex %d had no CVEs, %d expected in all", index, total)
		}
	}
	r.b.metricsInfo(r.src, func(m *MetricsSource) { m.SyncedThrough, m.Incremental = start, incremental })
	return nil
}

// nvdPage fetches one page and splits it into records, returning how many
// it held and the total the API reports.
func (r *metricsReader) nvdPage(ctx context.Context, u, key string, w *rateWindow) (n, total int, err error) {
	body, err := r.nvdGet(ctx, u, key, w)
	if err != nil {
		return 0, 0, err
	}
	defer body.Close()
	name := redact(u)
	in := &countReader{r: body, n: &r.total, max: r.im.limits().MaxTotalBytes, what: name}
	env, n, err := splitJSON(in, r.im.limits().MaxRecordBytes, nil, func(rec []byte) error {
		return r.emit(rawRecord{src: r.src, name: name, data: rec, kind: recMetrics})
	})
	if err != nil {
		return 0, 0, fmt.Errorf("GET %s: %w", name, err)
	}
	var page struct {
		TotalResults *int `json:"totalResults"`
	}
	if err := json.Unmarshal(env, &page); err != nil || page.TotalResults == nil {
		return 0, 0, fmt.Errorf("GET %s: not an NVD API 2.0 answer (no totalResults)", name)
	}
	return n, *page.TotalResults, nil
}

// nvdGet sends one request within the rate window, retrying (at most
// nvdAttempts times) the answers NVD gives when it is rate limiting or
// overloaded — 403, 429, 502, 503, 504 — after Retry-After or, without
// one, the window's pace.
func (r *metricsReader) nvdGet(ctx context.Context, u, key string, w *rateWindow) (io.ReadCloser, error) {
	name := redact(u)
	for attempt := 1; ; attempt++ {
		if err := w.wait(ctx); err != nil {
			return nil, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, fmt.Errorf("GET %s: %w", name, err)
		}
		if key != "" {
			req.Header.Set("apiKey", key)
		}
		resp, err := r.im.client().Do(req)
		if err != nil {
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err
			}
			return nil, fmt.Errorf("GET %s: %w", name, err)
		}
		if resp.StatusCode == http.StatusOK {
			return resp.Body, nil
		}
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusForbidden, http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		default:
			return nil, fmt.Errorf("GET %s: %s", name, resp.Status)
		}
		if attempt >= nvdAttempts {
			return nil, fmt.Errorf("GET %s: %s after %d attempts", name, resp.Status, attempt)
		}
		delay, ok := retryAfter(resp.Header.Get("Retry-After"), time.Now())
		if !ok {
			delay = w.pace() << (attempt - 1)
		}
		if err := sleepCtx(ctx, min(delay, nvdMaxRetryAfter)); err != nil {
			return nil, err
		}
	}
}

// lastNVDSync returns when the database of meta last synced from the NVD
// API at base, if that was less than 120 days before now.
func lastNVDSync(meta Metadata, base string, now time.Time) (time.Time, bool) {
	var since time.Time
	if mi := meta.Metrics; mi != nil {
		for _, s := range mi.Sources {
			if s.Kind == string(KindNVDAPI) && s.Location == redact(base) && s.SyncedThrough.After(since) {
				since = s.SyncedThrough
			}
		}
	}
	if since.IsZero() || now.Sub(since) >= nvdMaxRange || since.After(now) {
		return time.Time{}, false
	}
	return since, true
}

// carryNVD hands the NVD part of every CVE of db (the current database)
// to the builder, to be replaced by any newer record the API returns.
func (r *metricsReader) carryNVD(ctx context.Context, db *DB) (int, error) {
	n := 0
	for i := range db.metrics.n {
		if i%4096 == 0 && ctx.Err() != nil {
			return n, ctx.Err()
		}
		row, err := decodeRow(bytesString(db.metrics.val(i)), db.metricString)
		if err != nil {
			return n, corrupt("section %d (%s): CVE %s: %v", secMetrics, sectionName(secMetrics), db.metrics.key(i), err)
		}
		if row.nvd == nil {
			continue
		}
		m := &metricRec{cve: strings.Clone(db.metrics.key(i)), kind: partNVD, part: row.nvd, carried: true}
		if err := r.emit(rawRecord{src: r.src, name: "previous database", kind: recMetrics, carried: m}); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// nvdTime formats a time as the NVD API's date parameters want it.
func nvdTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000") + "+00:00"
}

// rateWindow allows at most n requests in any rolling window of per.
type rateWindow struct {
	n    int
	per  time.Duration
	sent []time.Time
}

func newRateWindow(opt NVDAPIOptions) *rateWindow {
	w := &rateWindow{n: opt.Requests, per: opt.Window}
	if w.n <= 0 {
		w.n = nvdRequestsNoKey
		if opt.APIKey != "" {
			w.n = nvdRequestsKey
		}
	}
	if w.per <= 0 {
		w.per = nvdWindow
	}
	return w
}

// pace is the average spacing the window allows.
func (w *rateWindow) pace() time.Duration { return w.per / time.Duration(w.n) }

func (w *rateWindow) wait(ctx context.Context) error {
	for {
		now := time.Now()
		for len(w.sent) > 0 && now.Sub(w.sent[0]) >= w.per {
			w.sent = w.sent[1:]
		}
		if len(w.sent) < w.n {
			w.sent = append(w.sent, now)
			return nil
		}
		if err := sleepCtx(ctx, w.sent[0].Add(w.per).Sub(now)); err != nil {
			return err
		}
	}
}

// retryAfter reads a Retry-After value: seconds or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
