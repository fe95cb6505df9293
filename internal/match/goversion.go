package match

import (
	"errors"
	"strconv"
	"strings"
)

// ErrGoDevel is returned by GoVersion for development toolchains, whose
// version names no release that an advisory could list.
var ErrGoDevel = errors.New("development toolchain")

// ErrGoVersion is returned by GoVersion for a string that is not a Go
// toolchain version.
var ErrGoVersion = errors.New("not a Go toolchain version")

// GoVersion turns a Go toolchain version as binaries record it ("go1.20.3",
// "go1.21rc2", "go1.20", "go1.22.0 X:boringcrypto", or osv-scalibr's
// "1.20.3") into the semantic version the Go vulnerability database uses for
// module "stdlib" ("1.20.3", "1.21.0-rc.2", "1.20.0"). It follows
// golang.org/x/vuln's GoTagToSemver. A vendor suffix after "-" is dropped
// ("go1.23.4-bigcorp" -> "1.23.4"); "devel ..." and "(devel)" return
// ErrGoDevel.
func GoVersion(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", ErrGoVersion
	}
	if strings.HasPrefix(s, "devel") || s == "(devel)" {
		return "", ErrGoDevel
	}
	// Build settings follow a space: "go1.22.0 X:boringcrypto".
	s, _, _ = strings.Cut(s, " ")
	s = strings.TrimPrefix(s, "go")
	s = strings.TrimPrefix(s, "v")

	// Already semver with a Go prerelease ("1.21.0-rc.2"), as scalibr may
	// pass through from a module-style version.
	if core, pre, ok := strings.Cut(s, "-"); ok {
		if kind, n, ok := strings.Cut(pre, "."); ok && (kind == "rc" || kind == "beta") && isDigits(n) {
			c, err := goCore(core)
			if err != nil {
				return "", err
			}
			return c + "-" + kind + "." + trimZeros(n), nil
		}
		// "go1.20-pre3" style development tags and vendor suffixes.
		if strings.HasPrefix(pre, "pre") || strings.HasPrefix(pre, "devel") {
			return "", ErrGoDevel
		}
		s = core
	}
	s, _, _ = strings.Cut(s, "+")

	// "1.21rc2", "1.9beta1": the prerelease is glued to the last number.
	for _, kind := range []string{"rc", "beta", "alpha"} {
		if i := strings.Index(s, kind); i > 0 {
			n := s[i+len(kind):]
			if !isDigits(n) {
				return "", ErrGoVersion
			}
			c, err := goCore(s[:i])
			if err != nil {
				return "", err
			}
			return c + "-" + kind + "." + trimZeros(n), nil
		}
	}
	return goCore(s)
}

// goCore normalises "1", "1.20" or "1.20.3" to three numeric parts.
func goCore(s string) (string, error) {
	parts := strings.Split(s, ".")
	if len(parts) > 3 {
		return "", ErrGoVersion
	}
	for i, p := range parts {
		if !isDigits(p) {
			return "", ErrGoVersion
		}
		parts[i] = trimZeros(p)
	}
	if parts[0] != "1" {
		return "", ErrGoVersion
	}
	for len(parts) < 3 {
		parts = append(parts, "0")
	}
	return strings.Join(parts, "."), nil
}

func isDigits(s string) bool {
	if s == "" || len(s) > 9 {
		return false
	}
	_, err := strconv.ParseUint(s, 10, 32)
	return err == nil && strings.Trim(s, "0123456789") == ""
}

func trimZeros(s string) string {
	n, _ := strconv.ParseUint(s, 10, 32)
	return strconv.FormatUint(n, 10)
}
