package clusterscan

import (
	"k8s.io/apimachinery/pkg/labels"

	"github.com/runlens/runlens/internal/usage"
)

// ParseSelectors checks the pod label selector and parses the selectors
// that mark critical namespaces, as --selector and --critical-namespaces
// give them; a bad one is a *usage.Error naming its flag.
func ParseSelectors(pods string, critical []string) ([]labels.Selector, error) {
	if pods != "" {
		if _, err := labels.Parse(pods); err != nil {
			return nil, usage.Errorf("--selector: %v", err)
		}
	}
	var out []labels.Selector
	for _, s := range critical {
		sel, err := labels.Parse(s)
		if err != nil {
			return nil, usage.Errorf("--critical-namespaces %q: %v", s, err)
		}
		out = append(out, sel)
	}
	return out, nil
}
