package server

import (
	"strings"
	"testing"
)

// runlens_risks counts each cluster's unsuppressed risks per namespace
// and tier: every gauge equals the risks the API lists for its labels.
func TestMetricsPerNamespace(t *testing.T) {
	seeded(t, 10, func(t *testing.T, e *env) {
		scrape(t, e)
		mfs, err := e.srv.metrics.reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]float64{}
		for _, mf := range mfs {
			if mf.GetName() != "runlens_risks" {
				continue
			}
			for _, m := range mf.GetMetric() {
				l := map[string]string{}
				for _, p := range m.GetLabel() {
					l[p.GetName()] = p.GetValue()
				}
				if l["namespace"] == "" {
					t.Errorf("runlens_risks without a namespace: %v", l)
				}
				got[l["cluster"]+"/"+l["namespace"]+"/"+l["tier"]] = m.GetGauge().GetValue()
			}
		}
		want := map[string]float64{}
		for _, r := range e.allRisks("", 1000) {
			want[r.Cluster+"/"+r.Namespace+"/"+r.Tier]++
		}
		if len(want) < 4 || len(got) != len(want) {
			t.Fatalf("gauges %v, risks listed %v", got, want)
		}
		for k, n := range want {
			if got[k] != n {
				t.Errorf("runlens_risks{%s} = %v, the API lists %v", strings.ReplaceAll(k, "/", ","), got[k], n)
			}
		}
	})
}
