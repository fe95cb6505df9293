package attribute

import (
	"testing"

	"github.com/runlens/runlens/internal/inventory"
)

func names(ps []*inventory.Package) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return out
}

func TestOwners(t *testing.T) {
	ix := New([]inventory.Package{
		{Name: "libssl3", Type: "deb", Files: []string{"/usr/lib/x86_64-linux-gnu/libssl.so.3", "/usr/share/doc/libssl3/copyright"}},
		{Name: "libc6", Type: "deb", Files: []string{"/lib/x86_64-linux-gnu/libc.so.6"}},
		{Name: "python3.11-minimal", Type: "deb", Files: []string{"/usr/bin/python3.11"}},
		{Name: "lodash", Type: "npm", Locations: []string{"/app/node_modules/lodash/package.json"}},
		{Name: "debug", Type: "npm", Locations: []string{"/app/node_modules/express/node_modules/debug/package.json"}},
		{Name: "express", Type: "npm", Locations: []string{"/app/node_modules/express/package.json"}},
		{Name: "Jinja2", Type: "python", Locations: []string{"/usr/lib/python3/dist-packages/Jinja2-3.1.2.dist-info/METADATA"}},
		{Name: "org.apache.logging.log4j:log4j-core", Type: "java-archive", Locations: []string{"/app/lib/log4j-core-2.14.1.jar"}},
		{Name: "org.yaml:snakeyaml", Type: "java-archive", Locations: []string{"/app/app.jar!/BOOT-INF/lib/snakeyaml-1.33.jar"}},
		{Name: "golang.org/x/net", Type: "go-module", Locations: []string{"/usr/local/bin/app"}},
		{Name: "stdlib", Type: "go-stdlib", Locations: []string{"/usr/local/bin/app"}},
	})
	for file, want := range map[string]string{
		"/usr/lib/x86_64-linux-gnu/libssl.so.3":                 "libssl3",
		"/usr/lib/x86_64-linux-gnu/libc.so.6":                   "libc6", // listed under /lib, mapped through the merged /usr
		"/lib/x86_64-linux-gnu/libc.so.6 (deleted)":             "libc6",
		"/usr/bin/python3.11":                                   "python3.11-minimal",
		"/app/node_modules/lodash/lodash.js":                    "lodash",
		"/app/node_modules/express/node_modules/debug/index.js": "debug", // the deepest package wins
		"/app/node_modules/express/lib/router/index.js":         "express",
		"/usr/lib/python3/dist-packages/jinja2/environment.py":  "Jinja2",
		"/app/lib/log4j-core-2.14.1.jar":                        "org.apache.logging.log4j:log4j-core",
		"/app/app.jar":                                          "org.yaml:snakeyaml",
		"/usr/local/bin/app":                                    "golang.org/x/net stdlib",
		"/etc/passwd":                                           "",
		"/app/server.js":                                        "",
	} {
		got := ""
		for i, n := range names(ix.Owners(file)) {
			if i > 0 {
				got += " "
			}
			got += n
		}
		if got != want {
			t.Errorf("Owners(%q) = %q, want %q", file, got, want)
		}
	}
}
