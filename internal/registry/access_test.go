package registry

import (
	"strings"
	"testing"

	"github.com/runlens/runlens/internal/usage"
)

func TestAccessOptionsReadsThePasswordAndRefusesHalfCredentials(t *testing.T) {
	o, err := Access{Username: "me", Password: strings.NewReader("tok\r\n")}.Options()
	if err != nil || o.Username != "me" || o.Password != "tok" || o.Transport == nil {
		t.Fatalf("Options = %+v, %v; want me/tok with a transport", o, err)
	}
	for _, a := range []Access{{Username: "me"}, {Password: strings.NewReader("tok")}, {IdleTimeout: -1}, {AllowedRealmHosts: []string{"169.254.169.254"}}} {
		if _, err := a.Options(); !usage.Is(err) {
			t.Errorf("%+v: err %v, want a usage error", a, err)
		}
	}
}

func TestParsePlatforms(t *testing.T) {
	if got := ParsePlatforms("all"); got != nil {
		t.Errorf("all = %v, want nil (every platform)", got)
	}
	if got := ParsePlatforms(""); len(got) != 1 || got[0] != DefaultPlatform() {
		t.Errorf(`"" = %v, want the default platform`, got)
	}
	if got := ParsePlatforms(" linux/amd64, ,linux/arm64"); strings.Join(got, " ") != "linux/amd64 linux/arm64" {
		t.Errorf("list = %v", got)
	}
}
