package extract

import (
	"context"
	"testing"
)

// TestOSEcosystems checks the ecosystem strings against the ones OSV uses
// (see ../../shared/testdata/osv: "Debian:9", "Ubuntu:22.04:LTS",
// "Alpine:v3.20").
func TestOSEcosystems(t *testing.T) {
	const dpkgStanza = "Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\nSource: openssl\nVersion: 3.0.2-0ubuntu1.15\n\n"
	const apkStanza = "P:musl\nV:1.2.5-r0\nA:x86_64\no:musl\n\n"
	tests := []struct {
		name, osRelease, db, content, want string
	}{
		{"debian 12", "ID=debian\nVERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\n", "var/lib/dpkg/status", dpkgStanza, "Debian:12"},
		{"ubuntu LTS", "ID=ubuntu\nVERSION_ID=\"22.04\"\nVERSION=\"22.04.4 LTS (Jammy Jellyfish)\"\n", "var/lib/dpkg/status", dpkgStanza, "Ubuntu:22.04:LTS"},
		{"ubuntu interim", "ID=ubuntu\nVERSION_ID=\"23.10\"\nVERSION=\"23.10 (Mantic Minotaur)\"\n", "var/lib/dpkg/status", dpkgStanza, "Ubuntu:23.10"},
		{"alpine", "ID=alpine\nVERSION_ID=3.20.3\n", "lib/apk/db/installed", apkStanza, "Alpine:v3.20"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, "etc/os-release", []byte(tc.osRelease), 0o644)
			writeFile(t, dir, tc.db, []byte(tc.content), 0o644)
			inv, err := Extract(context.Background(), newDirRoot(t, dir), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(inv.Packages) != 1 || inv.Packages[0].Ecosystem != tc.want {
				t.Errorf("packages = %+v, want one in %q", inv.Packages, tc.want)
			}
		})
	}
}
