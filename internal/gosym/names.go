package gosym

import (
	"net/url"
	"strings"
)

// Split splits a pclntab function name into its package path and its
// symbol as OSV records name it:
//
//	golang.org/x/text/language.ParseAcceptLanguage -> ParseAcceptLanguage
//	golang.org/x/text/language.(*Tag).String       -> Tag.String
//	example.com/m.(*List[...]).Push                -> List.Push
//	example.com/m.Serve.func1.2                    -> Serve
//	example.com/m.T.M-fm                           -> T.M
//	gopkg.in/yaml%2ev2.Unmarshal                   -> gopkg.in/yaml.v2, Unmarshal
//
// ok is false for linker-made names (type:.eq.*, go:buildid) and names
// without a package.
func Split(name string) (pkg, sym string, ok bool) {
	if strings.HasPrefix(name, "type:") || strings.HasPrefix(name, "go:") || strings.HasPrefix(name, "type..") {
		return "", "", false
	}
	name = stripBrackets(name)
	slash := strings.LastIndexByte(name, '/')
	dot := strings.IndexByte(name[slash+1:], '.')
	if dot < 0 {
		return "", "", false
	}
	dot += slash + 1
	pkg, rest := name[:dot], name[dot+1:]
	if strings.IndexByte(pkg, '%') >= 0 {
		if p, err := url.PathUnescape(pkg); err == nil {
			pkg = p
		}
	}
	rest = strings.TrimSuffix(rest, "-fm")
	if strings.HasPrefix(rest, "(*") {
		if end := strings.IndexByte(rest, ')'); end > 0 {
			rest = rest[2:end] + rest[end+1:]
		}
	}
	parts := strings.Split(rest, ".")
	n := 0
	for n < len(parts) && n < 2 && !generated(parts[n]) {
		n++
	}
	if n == 0 || pkg == "" {
		return "", "", false
	}
	return pkg, strings.Join(parts[:n], "."), true
}

// generated says a name element is one the compiler makes for code inside
// a function: a closure (func1), its nesting (2), a go or defer wrapper,
// a numbered init.
func generated(s string) bool {
	if s == "" {
		return true
	}
	for _, p := range []string{"func", "gowrap", "deferwrap"} {
		if strings.HasPrefix(s, p) && digits(s[len(p):]) {
			return true
		}
	}
	return digits(s)
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// stripBrackets removes generic type arguments ("[...]" or spelled-out
// shapes, which may hold slashes and dots of their own).
func stripBrackets(s string) string {
	if strings.IndexByte(s, '[') < 0 {
		return s
	}
	var b strings.Builder
	depth := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '[':
			depth++
		case c == ']' && depth > 0:
			depth--
		case depth == 0:
			b.WriteByte(c)
		}
	}
	return b.String()
}
