package server

import "net/http"

// route is one endpoint: its method, its ServeMux pattern, the scope it
// needs and its handler. The OpenAPI document lists every one (a test
// checks both ways).
type route struct {
	method  string
	pattern string
	need    string
	handler http.HandlerFunc
}

// routes lists every endpoint the server serves besides the UI.
func (s *Server) routes() []route {
	return []route{
		{"GET", "/healthz", needNone, s.healthz},
		{"GET", "/readyz", needNone, s.readyz},
		{"GET", "/metrics", needRead, s.metrics.serve},
		{"POST", "/login", needNone, s.login},
		{"POST", "/logout", needNone, s.logout},
		{"GET", "/api/v1/openapi.yaml", needNone, serveOpenAPI},

		{"GET", "/api/v1/clusters", needRead, s.listClusters},
		{"GET", "/api/v1/clusters/{c}", needRead, s.getCluster},
		{"GET", "/api/v1/clusters/{c}/scans", needRead, s.listScans},
		{"POST", "/api/v1/clusters/{c}/results", needPush, s.pushResult},
		{"POST", "/api/v1/clusters/{c}/evidence", needPush, s.pushEvidence},
		{"POST", "/api/v1/clusters/{c}/scan", needAdmin, s.scanNow},
		{"GET", "/api/v1/workloads", needRead, s.listWorkloads},
		{"GET", "/api/v1/workloads/{c}/{ns}/{kind}/{name}", needRead, s.getWorkload},
		{"GET", "/api/v1/images", needRead, s.listImages},
		{"GET", "/api/v1/images/{digest}", needRead, s.getImage},
		{"GET", "/api/v1/packages", needRead, s.listPackages},
		{"GET", "/api/v1/findings", needRead, s.listFindings},
		{"GET", "/api/v1/risks", needRead, s.listRisks},
		{"GET", "/api/v1/risks/{id}", needRead, s.getRisk},
		{"GET", "/api/v1/risks/{id}/explain", needRead, s.explainRisk},
		{"GET", "/api/v1/funnel", needRead, s.getFunnel},
		{"GET", "/api/v1/remediation", needRead, s.listRemediation},
		{"GET", "/api/v1/changes", needRead, s.listChanges},
		{"GET", "/api/v1/evidence", needRead, s.listEvidence},
		{"GET", "/api/v1/export", needRead, s.export},
		{"GET", "/api/v1/db", needRead, s.getDB},
		{"POST", "/api/v1/db/reload", needAdmin, s.reloadDB},
		{"GET", "/api/v1/tokens", needAdmin, s.listTokens},
		{"POST", "/api/v1/tokens", needAdmin, s.createToken},
		{"DELETE", "/api/v1/tokens/{id}", needAdmin, s.revokeToken},
		{"GET", "/api/v1/acceptances", needRead, s.listAcceptances},
		{"POST", "/api/v1/acceptances", needWrite, s.createAcceptance},
		{"DELETE", "/api/v1/acceptances/{id}", needWrite, s.deleteAcceptance},
	}
}
