package vulndb

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestReadHeaderFile(t *testing.T) {
	tests := []struct {
		name, text string
		want       http.Header
		wantErr    string
	}{
		{"two headers, comments, blanks", "# mirror\n\nAuthorization: Bearer s3cret\nX-Api-Key:  k:with:colons \n", http.Header{"Authorization": {"Bearer s3cret"}, "X-Api-Key": {"k:with:colons"}}, ""},
		{"repeated", "X-A: 1\nx-a: 2\n", http.Header{"X-A": {"1", "2"}}, ""},
		{"no colon", "Authorization Bearer s3cret\n", nil, "line 1 is not"},
		{"empty value", "X-A:\n", nil, "line 1 is not"},
		{"bad name", "X A: s3cret\n", nil, "line 1 is not"},
		{"too large", strings.Repeat("X-A: s3cret\n", 10000), nil, "larger than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "headers")
			if err := os.WriteFile(p, []byte(tc.text), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := ReadHeaderFile(p)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Errorf("error shows the secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestAuthFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    http.Header
		wantErr bool
	}{
		{"none", nil, nil, false},
		{"token", map[string]string{EnvToken: "tok"}, http.Header{"Authorization": {"Bearer tok"}}, false},
		{"basic", map[string]string{EnvUsername: "u", EnvPassword: "p"}, http.Header{"Authorization": {"Basic dTpw"}}, false},
		{"both", map[string]string{EnvToken: "tok", EnvUsername: "u", EnvPassword: "p"}, nil, true},
		{"user only", map[string]string{EnvUsername: "u"}, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := AuthFromEnv(func(k string) string { return tc.env[k] })
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v", err)
			}
			if err != nil && (strings.Contains(err.Error(), "tok") || strings.Contains(err.Error(), "=p")) {
				t.Errorf("error shows a secret: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestScopedHeaders: the mirror gets the header; another host, and the
// target of a redirect from the mirror, do not.
func TestScopedHeaders(t *testing.T) {
	seen := map[string]string{}
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen["other"+r.URL.Path] = r.Header.Get("X-Mirror-Key")
	}))
	defer other.Close()
	mirror := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen["mirror"+r.URL.Path] = r.Header.Get("X-Mirror-Key")
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, other.URL+"/redirected", http.StatusFound)
		}
	}))
	defer mirror.Close()
	rt, err := NewScopedHeaders(nil, http.Header{"X-Mirror-Key": {"s3cret"}}, mirror.URL+"/osv")
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Transport: rt}
	for _, u := range []string{mirror.URL + "/a", other.URL + "/b", mirror.URL + "/redirect"} {
		resp, err := c.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	want := map[string]string{"mirror/a": "s3cret", "other/b": "", "mirror/redirect": "s3cret", "other/redirected": ""}
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Errorf("header seen per request (-want +got):\n%s", diff)
	}
	if _, err := NewScopedHeaders(nil, nil, "ftp://user:pw@x/"); err == nil || strings.Contains(err.Error(), "pw") {
		t.Errorf("bad origin: err = %v", err)
	}
}
