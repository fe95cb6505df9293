package match

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// oracleSchemes are the version schemes runlens compares, each with the
// committed file of its native tool's answers (testdata/oracle, written by
// hack/oracles/generate.sh) and the ecosystems that use the scheme. Every
// ecosystem is checked against the whole file, through the same parse and
// compare that range matching uses; the SemVer ecosystems also through
// OSV's SEMVER range type.
//
// Strict schemes reject every version the native tool rejects, so a
// damaged version becomes a match error. The SemVer ecosystems and NuGet
// are lenient on purpose: npm, crates.io and the go command only produce
// valid versions, and OSV producers write SEMVER events such as "v1.2"
// that a strict parse would turn into errors; their oracle files still
// name the versions the tool rejects, and the test counts them.
var oracleSchemes = []struct {
	file       string
	ecosystems []string
	semver     bool // also compared through the SEMVER range type
	strict     bool // runlens must reject what the oracle rejects
}{
	{"debian", []string{"Debian", "Ubuntu"}, false, true},
	{"rpm", []string{"Red Hat", "Rocky Linux", "AlmaLinux", "openSUSE", "SUSE", "Mageia", "openEuler"}, false, true},
	{"alpine", []string{"Alpine", "Wolfi", "Chainguard"}, false, true},
	{"pypi", []string{"PyPI"}, false, true},
	{"maven", []string{"Maven"}, false, true},
	{"rubygems", []string{"RubyGems"}, false, true},
	{"npm", []string{"npm"}, true, false},
	{"crates.io", []string{"crates.io"}, true, false},
	{"go", []string{"Go"}, true, false},
	{"packagist", []string{"Packagist"}, false, true},
	{"nuget", []string{"NuGet"}, false, false},
}

// oraclePair is one line of an oracle file: A OP B, or a version the
// oracle rejects (op "!").
type oraclePair struct {
	line int
	a, b string
	op   string
}

// minOraclePairs is the least number of pairs a committed oracle file may
// hold: fewer means it was cut short.
const minOraclePairs = 1000

func readOracle(t *testing.T, name string) []oraclePair {
	t.Helper()
	path := filepath.Join("testdata", "oracle", name+".txt")
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v: the committed oracle output is missing; run hack/oracles/generate.sh", err)
	}
	defer f.Close()
	var out []oraclePair
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Split(line, "\t")
		switch {
		case len(fields) == 2 && fields[0] == "!":
			out = append(out, oraclePair{line: n, a: fields[1], op: "!"})
		case len(fields) == 3 && (fields[1] == "<" || fields[1] == "=" || fields[1] == ">"):
			out = append(out, oraclePair{line: n, a: fields[0], op: fields[1], b: fields[2]})
		default:
			t.Fatalf("%s:%d: malformed line %q", path, n, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return out
}

var opOf = map[int]string{-1: "<", 0: "=", 1: ">"}

// runlensOrder compares a and b the way range matching does for a range of
// rangeType in ecosystem eco: "<", "=", ">", or an error.
func runlensOrder(eco, rangeType, a, b string) (string, error) {
	parse, pa, err := newInstalled(a, eco, nil).parser(rangeType)
	if err != nil {
		return "", err
	}
	pb, err := parse(b)
	if err != nil {
		return "", err
	}
	c, err := pa.Compare(pb)
	if err != nil {
		return "", err
	}
	return opOf[c], nil
}

// runlensAccepts reports whether range matching would compare v at all.
func runlensAccepts(eco, rangeType, v string) bool {
	_, _, err := newInstalled(v, eco, nil).parser(rangeType)
	return err == nil
}

// TestVersionOrderMatchesNativeTools checks runlens's version order against
// each ecosystem's own implementation, pair by pair, from the committed
// oracle output. A missing file fails: the proof must not silently vanish.
func TestVersionOrderMatchesNativeTools(t *testing.T) {
	for _, s := range oracleSchemes {
		t.Run(s.file, func(t *testing.T) {
			pairs := readOracle(t, s.file)
			compared := 0
			for _, p := range pairs {
				if p.op != "!" {
					compared++
				}
			}
			if compared < minOraclePairs {
				t.Fatalf("%d pairs in testdata/oracle/%s.txt, want at least %d", compared, s.file, minOraclePairs)
			}
			rangeTypes := []string{"ECOSYSTEM"}
			if s.semver {
				rangeTypes = append(rangeTypes, "SEMVER")
			}
			for _, eco := range s.ecosystems {
				for _, rt := range rangeTypes {
					agree, disagree := checkOracle(t, s.file, eco, rt, pairs)
					t.Logf("%s (%s): %d of %d pairs agree with the oracle", eco, rt, agree, agree+disagree)
				}
				checkRejected(t, s.file, eco, s.strict, pairs)
			}
		})
	}
}

// checkOracle reports every pair where runlens and the oracle differ and
// returns the counts.
func checkOracle(t *testing.T, file, eco, rangeType string, pairs []oraclePair) (agree, disagree int) {
	t.Helper()
	var bad []string
	for _, p := range pairs {
		if p.op == "!" {
			continue
		}
		got, err := runlensOrder(eco, rangeType, p.a, p.b)
		if err != nil {
			got = fmt.Sprintf("error (%v)", err)
		}
		if got == p.op {
			agree++
			continue
		}
		disagree++
		bad = append(bad, fmt.Sprintf("%s.txt:%d: %q %s %q per the oracle; runlens says %s", file, p.line, p.a, p.op, p.b, got))
	}
	if len(bad) > 0 {
		const show = 40
		more := ""
		if len(bad) > show {
			more = fmt.Sprintf("\n... and %d more", len(bad)-show)
			bad = bad[:show]
		}
		t.Errorf("%s (%s): %d pairs disagree with the native tool:\n%s%s", eco, rangeType, disagree, strings.Join(bad, "\n"), more)
	}
	return agree, disagree
}

// checkRejected: in a strict scheme runlens rejects every version the
// oracle rejects; in a lenient one the accepted ones are only counted.
func checkRejected(t *testing.T, file, eco string, strict bool, pairs []oraclePair) {
	t.Helper()
	var rejected, accepted []string
	for _, p := range pairs {
		if p.op != "!" {
			continue
		}
		rejected = append(rejected, p.a)
		if runlensAccepts(eco, "ECOSYSTEM", p.a) {
			accepted = append(accepted, fmt.Sprintf("%s.txt:%d: %q", file, p.line, p.a))
		}
	}
	switch {
	case strict && len(accepted) > 0:
		t.Errorf("%s: runlens compares %d versions the native tool rejects:\n%s", eco, len(accepted), strings.Join(accepted, "\n"))
	case len(accepted) > 0:
		t.Logf("%s: lenient: %d of the %d versions the native tool rejects are compared anyway", eco, len(accepted), len(rejected))
	default:
		t.Logf("%s: all %d versions the native tool rejects are rejected", eco, len(rejected))
	}
}
