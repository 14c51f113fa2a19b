package main

import (
	"net/url"
	"regexp"
	"strings"
)

var (
	// postgres:// or postgresql:// URI: scheme, authority (up to the first '/', '?' or '#'), rest.
	pgURIRe = regexp.MustCompile(`(?is)^postgres(?:ql)?://([^/?#]*)(?:[^?#]*)(?:\?([^#]*))?`)
	// A libpq keyword/value `password = value` (bare or single-quoted with backslash escapes).
	pgKeywordPasswordRe = regexp.MustCompile(`(?i)(?:^|\s)password\s*=\s*(?:'((?:[^'\\]|\\.)*)'|(\S*))`)
	backslashEscapeRe   = regexp.MustCompile(`\\(.)`)
)

// passwordForms returns every spelling of the password a PostgreSQL connection string carries (in the URI's userinfo,
// a `password` query parameter, or a keyword/value `password=`): as written, decoded, and percent-encoded the way a
// URI builder writes it. None for any other value. The same rule as src/util/pg-connection.ts.
func passwordForms(secret string) []string {
	text := strings.TrimSpace(secret)
	var raw []string
	var decoded []string
	if m := pgURIRe.FindStringSubmatch(text); m != nil {
		authority := m[1]
		if at := strings.LastIndex(authority, "@"); at >= 0 {
			if colon := strings.Index(authority[:at], ":"); colon >= 0 {
				r := authority[colon+1 : at]
				raw = append(raw, r)
				decoded = append(decoded, unescape(r, false))
			}
		}
		for _, pair := range strings.Split(m[2], "&") {
			k, v, _ := strings.Cut(pair, "=")
			if strings.EqualFold(unescape(k, false), "password") {
				raw = append(raw, v)
				decoded = append(decoded, unescape(v, true))
			}
		}
	} else if strings.Contains(text, "=") {
		for _, m := range pgKeywordPasswordRe.FindAllStringSubmatch(text, -1) {
			if m[1] != "" {
				raw = append(raw, m[1])
				decoded = append(decoded, backslashEscapeRe.ReplaceAllString(m[1], "$1"))
			} else {
				raw = append(raw, m[2])
				decoded = append(decoded, m[2])
			}
		}
	}
	var forms []string
	seen := map[string]bool{}
	add := func(v string) {
		if v != "" && !seen[v] {
			seen[v] = true
			forms = append(forms, v)
		}
	}
	for i := range raw {
		add(raw[i])
		add(decoded[i])
		add(encodeURIComponent(decoded[i]))
	}
	return forms
}

// unescape percent-decodes s (and '+' as a space in a query value); s unchanged when it is malformed.
func unescape(s string, query bool) string {
	if query {
		s = strings.ReplaceAll(s, "+", " ")
	}
	if d, err := url.PathUnescape(s); err == nil {
		return d
	}
	return s
}

// encodeURIComponent escapes like JavaScript's encodeURIComponent.
func encodeURIComponent(s string) string {
	const keep = "-_.!~*'()"
	var b strings.Builder
	for _, c := range []byte(s) {
		if ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') || strings.IndexByte(keep, c) >= 0 {
			b.WriteByte(c)
		} else {
			b.WriteString("%" + strings.ToUpper(hexByte(c)))
		}
	}
	return b.String()
}

func hexByte(c byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[c>>4], digits[c&0xf]})
}
