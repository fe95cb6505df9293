// Package k8s discovers what runs in Kubernetes clusters and the context
// that makes a vulnerability dangerous there: which digest each container
// really runs, the workload that owns it, its network exposure and its
// privileges. It reads the API only (agentless); nothing is installed.
//
// The model types live in internal/workload (free of client-go, so reports
// can use them); they are aliased here for convenience.
package k8s

import "github.com/runlens/runlens/internal/workload"

// Aliases of the workload model.
type (
	Snapshot    = workload.Snapshot
	Funnel      = workload.Funnel
	Problem     = workload.Problem
	Workload    = workload.Workload
	Container   = workload.Container
	Port        = workload.Port
	Exposure    = workload.Exposure
	Sensitivity = workload.Sensitivity
	RBACPower   = workload.RBACPower
)

// Exposure levels, most exposed first.
const (
	ExposureInternet = workload.ExposureInternet
	ExposureCluster  = workload.ExposureCluster
	ExposureIsolated = workload.ExposureIsolated
	ExposureUnknown  = workload.ExposureUnknown
)
