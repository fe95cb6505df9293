package cluster

import (
	"encoding/base64"
	"encoding/json"
)

// DockerConfigJSON builds the kubernetes.io/dockerconfigjson payload that grants
// user:password on registry.
func DockerConfigJSON(registry, user, password string) []byte {
	type entry struct {
		Username string `json:"username"`
		Password string `json:"password"`
		Auth     string `json:"auth"`
	}
	cfg := map[string]map[string]entry{"auths": {registry: {
		Username: user,
		Password: password,
		Auth:     base64.StdEncoding.EncodeToString([]byte(user + ":" + password)),
	}}}
	b, _ := json.Marshal(cfg) // a map of strings always marshals
	return b
}
