package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/runlens/runlens/internal/evidence"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/risk"
	"github.com/runlens/runlens/internal/store"
	"github.com/runlens/runlens/internal/store/storetest"
)

func TestServerPushResult(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, Options{})
		_, tok := e.mint("ci-prod", store.ScopeWriteCluster, "prod")
		doc := storetest.Document("prod", 8, storetest.DocOptions{})
		code, b := e.push("prod", tok, doc)
		if code != http.StatusOK {
			t.Fatalf("push: %d %s", code, b)
		}
		var stats ingestAnswer
		if err := json.Unmarshal(b, &stats); err != nil {
			t.Fatal(err)
		}
		if stats.Risks != len(doc.Risks) || stats.Workloads != 8 || stats.ScanID == 0 || stats.Appeared == 0 {
			t.Errorf("stats %+v, want %d risks of 8 workloads", stats, len(doc.Risks))
		}
		got := e.allRisks("cluster=prod&suppressed=true", 100)
		if len(got) != len(doc.Risks) {
			t.Errorf("the API shows %d risks of prod, the result has %d", len(got), len(doc.Risks))
		}
		var scans items[store.ScanInfo]
		e.get("/api/v1/clusters/prod/scans", &scans)
		if len(scans.Items) != 1 || scans.Items[0].Source != "push:ci-prod" {
			t.Errorf("scans %+v, want one from push:ci-prod", scans.Items)
		}

		// Plain JSON (no gzip) is taken too.
		var plain bytes.Buffer
		if err := json.NewEncoder(&plain).Encode(storetest.Document("prod", 8, storetest.DocOptions{Variant: 1})); err != nil {
			t.Fatal(err)
		}
		if code, b := e.read("POST", "/api/v1/clusters/prod/results", tok, &plain); code != http.StatusOK {
			t.Errorf("plain JSON push: %d %s", code, b)
		}

		// A result naming another cluster, garbage, a newer schema.
		code, b = e.push("prod", e.admin, storetest.Document("stage", 2, storetest.DocOptions{}))
		wantError(t, "a result of stage pushed as prod", code, b, http.StatusBadRequest)
		code, b = e.read("POST", "/api/v1/clusters/prod/results", tok, strings.NewReader("not json"))
		wantError(t, "garbage", code, b, http.StatusBadRequest)
		code, b = e.read("POST", "/api/v1/clusters/prod/results", tok, strings.NewReader(`{"schema_version":"9.0"}`))
		wantError(t, "schema 9.0", code, b, http.StatusBadRequest)
		code, b = e.read("POST", "/api/v1/clusters/prod/results", tok, strings.NewReader("x"), "Content-Encoding", "gzip")
		wantError(t, "bad gzip", code, b, http.StatusBadRequest)

		var ingests float64
		mfs, _ := e.srv.metrics.reg.Gather()
		for _, mf := range mfs {
			if mf.GetName() == "runlens_ingest_total" {
				for _, m := range mf.GetMetric() {
					labels := map[string]string{}
					for _, l := range m.GetLabel() {
						labels[l.GetName()] = l.GetValue()
					}
					if labels["cluster"] == "prod" && labels["result"] == "ok" {
						ingests = m.GetCounter().GetValue()
					}
				}
			}
		}
		if ingests != 2 {
			t.Errorf("runlens_ingest_total{cluster=prod,result=ok} = %v, want 2", ingests)
		}
	})
}

func TestServerPushTooLarge(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, Options{MaxPushBytes: 4096})
		doc := storetest.Document("prod", 8, storetest.DocOptions{})
		code, b := e.push("prod", e.admin, doc) // gzip: small on the wire, large inflated
		wantError(t, "gzip over the cap", code, b, http.StatusRequestEntityTooLarge)
		var plain bytes.Buffer
		json.NewEncoder(&plain).Encode(doc)
		code, b = e.read("POST", "/api/v1/clusters/prod/results", e.admin, &plain)
		wantError(t, "plain over the cap", code, b, http.StatusRequestEntityTooLarge)
		var clusters items[store.ClusterInfo]
		e.get("/api/v1/clusters", &clusters)
		if len(clusters.Items) != 0 {
			t.Errorf("a refused push stored %d clusters", len(clusters.Items))
		}
	})
}

// An image scan's result names no cluster: pushed for one, its risks are
// stored under it.
func TestServerPushImageScan(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, Options{})
		full := storetest.Document("x", 2, storetest.DocOptions{})
		img := full.Images[0]
		img.RunningIn = nil
		doc := result.New(result.NewHeader("scan image", "test", nil), []*result.Image{img}, nil, nil)
		if err := risk.Rank(doc, risk.Options{Now: testNow}); err != nil {
			t.Fatal(err)
		}
		if code, b := e.push("ci", e.admin, doc); code != http.StatusOK {
			t.Fatalf("push: %d %s", code, b)
		}
		got := e.allRisks("cluster=ci&suppressed=true", 100)
		if len(got) != len(img.Findings) || got[0].Image != img.Target.Digest {
			t.Errorf("risks of ci: %d, want %d on %s", len(got), len(img.Findings), img.Target.Digest)
		}
	})
}

func TestServerAcceptances(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, Options{})
		doc := storetest.Document("c0", 6, storetest.DocOptions{})
		if code, b := e.push("c0", e.admin, doc); code != http.StatusOK {
			t.Fatalf("push: %d %s", code, b)
		}
		victim := doc.Risks[0]
		_, c0 := e.mint("team-c0", store.ScopeWriteCluster, "c0")
		_, c1 := e.mint("team-c1", store.ScopeWriteCluster, "c1")
		expires := testNow.Add(30 * 24 * time.Hour).Format(time.RFC3339)
		body := `{"vulnerability":"` + victim.Vulnerability + `","cluster":"c0","reason":"not reachable: behind the WAF","expires":"` + expires + `"}`
		code, b := e.read("POST", "/api/v1/acceptances", c1, strings.NewReader(body))
		wantError(t, "c1 token accepting in c0", code, b, http.StatusForbidden)
		for _, bad := range []string{
			`{"vulnerability":"CVE-1","reason":"","expires":"` + expires + `"}`,
			`{"vulnerability":"CVE-1","reason":"r","expires":"2020-01-01T00:00:00Z"}`,
			`{"reason":"r","expires":"` + expires + `"}`,
			`{"vulnerability":"CVE-1","reason":"r","expires":"` + expires + `","namespace":"[bad"}`,
			`{"vulnerability":"CVE-1","reason":"r","expires":"` + expires + `","bogus":1}`,
		} {
			code, b := e.read("POST", "/api/v1/acceptances", e.admin, strings.NewReader(bad))
			wantError(t, "acceptance "+bad, code, b, http.StatusBadRequest)
		}
		code, b = e.read("POST", "/api/v1/acceptances", c0, strings.NewReader(body))
		if code != http.StatusCreated {
			t.Fatalf("accept: %d %s", code, b)
		}
		var a store.Acceptance
		json.Unmarshal(b, &a)
		if a.ID == 0 || a.By != "team-c0" || a.Cluster != "c0" {
			t.Errorf("acceptance %+v", a)
		}
		var list items[store.Acceptance]
		e.get("/api/v1/acceptances", &list)
		if len(list.Items) != 1 || list.Items[0].ID != a.ID {
			t.Errorf("acceptances: %+v", list.Items)
		}
		// Applied at the next ranking: the next push of the cluster.
		if code, b := e.push("c0", e.admin, doc); code != http.StatusOK {
			t.Fatalf("push again: %d %s", code, b)
		}
		q := "cluster=c0&vulnerability=" + url.QueryEscape(victim.Vulnerability)
		if n := len(e.allRisks(q, 100)); n != 0 {
			t.Errorf("%d risks of the accepted %s still unsuppressed", n, victim.Vulnerability)
		}
		sup := e.allRisks(q+"&suppressed=true", 100)
		if len(sup) == 0 {
			t.Fatalf("the accepted risks are gone, not suppressed")
		}
		for _, r := range sup {
			if r.Suppressed == nil || r.Suppressed.By != "policy" || !strings.Contains(r.Suppressed.Reason, "behind the WAF") {
				t.Errorf("risk %s suppressed %+v, want by policy with the reason", r.ID, r.Suppressed)
				continue
			}
			if r.Suppressed.Rule != "policy (server) accept[0]" || strings.Contains(strings.Join(r.Reasons, " "), "runlens-policy-") {
				t.Errorf("risk %s names a temporary file: rule %q, reasons %q", r.ID, r.Suppressed.Rule, r.Reasons)
			}
		}
		code, b = e.read("DELETE", "/api/v1/acceptances/"+itoa(int(a.ID)), c1, nil)
		wantError(t, "c1 token removing c0's acceptance", code, b, http.StatusForbidden)
		if code, b := e.read("DELETE", "/api/v1/acceptances/"+itoa(int(a.ID)), c0, nil); code != http.StatusNoContent {
			t.Errorf("unaccept: %d %s", code, b)
		}
		e.get("/api/v1/acceptances", &list)
		if len(list.Items) != 0 {
			t.Errorf("acceptances after removal: %d", len(list.Items))
		}
	})
}

// Evidence an agent pushed is stored, listed, and gives the cluster's
// next ranking its runtime states.
func TestServerEvidence(t *testing.T) {
	eachBackend(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, Options{})
		doc := storetest.Document("c0", 2, storetest.DocOptions{})
		wl := doc.Workloads[0]
		wl.PodUIDs = []string{"pod-uid-1"}
		digest := wl.Containers[0].Digest
		var img *result.Image
		for _, im := range doc.Images {
			if im.Target.Digest == digest {
				img = im
			}
		}
		p := img.Findings[0].Package
		win := result.Window{Start: testNow.Add(-48 * time.Hour), End: testNow, Complete: true}
		ev := evidence.Document{SchemaVersion: evidence.SchemaVersion, Node: "node-1", CreatedAt: testNow, Window: win,
			Containers: []evidence.Container{{ID: "c1", Name: "app", PodUID: "pod-uid-1", PodNamespace: wl.Namespace, PodName: wl.Name + "-x",
				Image: img.Target.Reference, Digest: digest, Window: win}},
			Records: []evidence.Record{{Digest: digest, Package: evidence.Package{Name: p.Name, Version: p.Version, Location: p.Location},
				PodUID: "pod-uid-1", State: result.RuntimeExecuted, Window: win, Files: []string{"/usr/bin/app"}}}}
		body, _ := json.Marshal(ev)
		_, c1 := e.mint("agent-c1", store.ScopeWriteCluster, "c1")
		code, b := e.read("POST", "/api/v1/clusters/c0/evidence", c1, bytes.NewReader(body))
		wantError(t, "c1 agent pushing c0 evidence", code, b, http.StatusForbidden)
		code, b = e.read("POST", "/api/v1/clusters/c0/evidence", e.admin, strings.NewReader(`{"schema_version":"7.0","node":"n"}`))
		wantError(t, "evidence of schema 7", code, b, http.StatusBadRequest)
		if code, b := e.read("POST", "/api/v1/clusters/c0/evidence", e.admin, bytes.NewReader(body)); code != http.StatusOK {
			t.Fatalf("evidence push: %d %s", code, b)
		}
		var list items[evidenceInfo]
		e.get("/api/v1/evidence?cluster=c0", &list)
		if len(list.Items) != 1 || list.Items[0].Name != "node-1" || list.Items[0].Records != 1 || !list.Items[0].Complete {
			t.Errorf("evidence of c0: %+v", list.Items)
		}
		if code, b := e.push("c0", e.admin, doc); code != http.StatusOK {
			t.Fatalf("push: %d %s", code, b)
		}
		got := e.allRisks("cluster=c0&suppressed=true&workload="+url.QueryEscape(wl.Kind+"/"+wl.Name)+"&package="+url.QueryEscape(p.Name), 100)
		executed := 0
		for _, r := range got {
			if r.Runtime.State == result.RuntimeExecuted {
				executed++
			}
		}
		if executed == 0 {
			t.Errorf("no risk of %s in %s is executed after the agent's evidence: %+v", p.Name, wl.Ref(), got)
		}
	})
}

func TestServerExportFormats(t *testing.T) {
	seeded(t, 6, func(t *testing.T, e *env) {
		for _, tc := range []struct {
			format, ctype string
			check         func(b []byte) error
		}{
			{"json", "application/json", func(b []byte) error {
				doc, err := result.Read(bytes.NewReader(b))
				if err == nil && (len(doc.Workloads) != 6 || len(doc.Risks) == 0) {
					return errorf("re-read: %d workloads, %d risks", len(doc.Workloads), len(doc.Risks))
				}
				return err
			}},
			{"sarif", "application/sarif+json", jsonWith("runs")},
			{"cyclonedx", "application/vnd.cyclonedx+json", jsonWith("bomFormat")},
			{"openvex", "application/json", jsonWith("statements")},
			{"spdx", "application/spdx+json", jsonWith("spdxVersion")},
			{"html", "text/html; charset=utf-8", func(b []byte) error {
				if !bytes.Contains(b, []byte("<html")) {
					return errorf("no <html")
				}
				return nil
			}},
		} {
			resp := e.do("GET", "/api/v1/export?cluster=c0&format="+tc.format, e.admin, nil)
			var buf bytes.Buffer
			buf.ReadFrom(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != tc.ctype {
				t.Errorf("export %s: %d %s", tc.format, resp.StatusCode, resp.Header.Get("Content-Type"))
				continue
			}
			if err := tc.check(buf.Bytes()); err != nil {
				t.Errorf("export %s: %v", tc.format, err)
			}
		}
		code, b := e.read("GET", "/api/v1/export?cluster=c0&format=xml", e.admin, nil)
		wantError(t, "format xml", code, b, http.StatusBadRequest)
		code, b = e.read("GET", "/api/v1/export?format=json", e.admin, nil)
		wantError(t, "export without a cluster", code, b, http.StatusBadRequest)
		code, b = e.read("GET", "/api/v1/export?cluster=nope", e.admin, nil)
		wantError(t, "export of an unknown cluster", code, b, http.StatusNotFound)
	})
}

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }

// jsonWith checks b is a JSON object with the key.
func jsonWith(key string) func(b []byte) error {
	return func(b []byte) error {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			return err
		}
		if len(m[key]) == 0 || string(m[key]) == "null" {
			return errorf("no %q", key)
		}
		return nil
	}
}
