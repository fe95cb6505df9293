package report

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/workload"
)

// writeWorkloads prints one row per workload: where it runs, how exposed and
// how privileged it is, who fixes its images, and its findings: every
// severity that has any, UNKNOWN included.
func writeWorkloads(w *errWriter, wls []*result.Workload) {
	w.printf("WORKLOADS\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  CLUSTER\tNAMESPACE\tWORKLOAD\tPODS\tEXPOSURE\tSENSITIVITY\tOWNER\tFINDINGS")
	for _, wl := range wls {
		counts := severityCounts(wl.FindingsBySeverity)
		if len(wl.Unscanned) > 0 {
			counts += fmt.Sprintf(" (+%d unscanned)", len(wl.Unscanned))
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s/%s\t%d\t%s\t%s\t%s\t%s\n", wl.Cluster, wl.Namespace, wl.Kind, wl.Name, wl.Pods,
			exposureWord(wl.Exposure), sensitivityFlags(wl.Sensitivity), owners(wl.Containers), counts)
	}
	if err := tw.Flush(); err != nil {
		w.err = err
	}
	for _, wl := range wls {
		if wl.Exposure == nil || len(wl.Exposure.Paths) == 0 {
			continue
		}
		w.printf("  %s/%s/%s/%s exposed via:\n", wl.Cluster, wl.Namespace, wl.Kind, wl.Name)
		for _, p := range wl.Exposure.Paths {
			w.printf("    %s\n", p)
		}
	}
	w.printf("\n")
}

func exposureWord(e *workload.Exposure) string {
	if e == nil || e.Level == "" {
		return "unknown"
	}
	return e.Level
}

// sensitivityFlags abbreviates the most telling privileges.
func sensitivityFlags(s *workload.Sensitivity) string {
	if s == nil {
		return "unknown"
	}
	var f []string
	if s.Privileged {
		f = append(f, "privileged")
	}
	if len(s.SensitiveHostPaths) > 0 {
		f = append(f, "hostPath:"+strings.Join(s.SensitiveHostPaths, ","))
	}
	if s.HostNetwork || s.HostPID || s.HostIPC {
		f = append(f, "hostNS")
	}
	if r := s.RBAC; r != nil {
		switch {
		case r.ClusterAdmin:
			f = append(f, "cluster-admin")
		case r.ReadSecrets || r.CreatePods || r.ExecPods || r.EscalateOrBind || r.Impersonate:
			f = append(f, "rbac:powerful")
		}
	}
	if len(s.CloudIdentity) > 0 {
		f = append(f, "cloud-identity")
	}
	if len(s.SecretVolumes)+len(s.SecretEnv) > 0 {
		f = append(f, "secrets")
	}
	if s.CriticalNamespace {
		f = append(f, "critical-ns")
	}
	if len(f) == 0 {
		return "-"
	}
	return strings.Join(f, " ")
}

func owners(cs []workload.Container) string {
	seen := map[string]bool{}
	var out []string
	for _, c := range cs {
		if c.Owner != "" && !seen[c.Owner] {
			seen[c.Owner] = true
			out = append(out, c.Owner)
		}
	}
	if len(out) == 0 {
		return "-"
	}
	return strings.Join(out, ",")
}
