package k8s

// The client rate limits, for the external tests.
const (
	ClientQPS   = clientQPS
	ClientBurst = clientBurst
)
