// Package redact decides which configuration values are secrets and how
// they are shown: every plan, log and error of streamkit that prints a
// config value goes through it.
package redact

import (
	"regexp"
	"strings"
)

// Marker replaces a secret value.
const Marker = "[redacted]"

// sensitiveWords are key segments (split on '.', '_' and '-') that mark a
// value as a secret wherever they appear in a key.
var sensitiveWords = map[string]bool{
	"password": true, "passwd": true, "pwd": true, "secret": true, "token": true,
	"credential": true, "credentials": true, "jaas": true, "apikey": true, "passphrase": true,
}

// sensitiveSuffixes mark keys whose last segments name a secret:
// "ssl.key" or "access.key", but not "key.converter".
var sensitiveSuffixes = []string{".key", "_key", "-key", "private.key", "user.info", "auth.info"}

// settingWords are last segments that make a key a setting about a
// credential rather than the credential itself, whatever words come
// before: basic.auth.credentials.source (USER_INFO, URL, SASL_INHERIT),
// sasl.mechanism, security.protocol, a cipher algorithm, a token
// endpoint's URL. A credential inside a URL is still found by Value and
// URLPassword.
var settingWords = map[string]bool{
	"source": true, "mechanism": true, "protocol": true, "algorithm": true, "url": true,
}

// SensitiveKey reports whether a config key's value is a credential: keys
// with password, secret, token, credentials, jaas (sasl.jaas.config) or
// apikey as a segment, and keys ending in "key" or "user.info"
// (basic.auth.user.info). A key whose last segment is source, mechanism,
// protocol, algorithm or url holds a setting, not a credential
// (basic.auth.credentials.source). Matching is case-insensitive.
func SensitiveKey(key string) bool {
	k := strings.ToLower(key)
	segs := strings.FieldsFunc(k, func(r rune) bool { return r == '.' || r == '_' || r == '-' })
	if len(segs) > 0 && settingWords[segs[len(segs)-1]] {
		return false
	}
	for _, seg := range segs {
		if sensitiveWords[seg] {
			return true
		}
	}
	for _, s := range sensitiveSuffixes {
		if strings.HasSuffix(k, s) {
			return true
		}
	}
	return false
}

// placeholder is Kafka's config-provider reference: ${provider:path:key}
// or ${provider:key}.
var placeholder = regexp.MustCompile(`^\$\{[A-Za-z0-9_.-]+:[^{}]*\}$`)

// IsPlaceholder reports whether v is exactly a config-provider reference,
// which names a secret without holding it and so is safe to show.
func IsPlaceholder(v string) bool { return placeholder.MatchString(strings.TrimSpace(v)) }

// urlPassword matches the user info of a URL with a password,
// scheme://user:password@, anywhere in a value: a connection string such
// as MongoDB's, under a key that names no secret. The password runs to
// the last @ before the host's path, since one may hold an unescaped @.
var urlPassword = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://[^/?#@\s:]*):([^/?#\s]*)@`)

// paramPassword matches a password parameter of a URL's query, as JDBC
// URLs take one: ?password=, &password=, ;password= (SQL Server), or pwd=.
var paramPassword = regexp.MustCompile(`(?i)([?&;](?:password|pwd)=)([^&;\s]*)`)

// Value returns v as it may be shown for key: the marker for a credential
// that is not a placeholder, and otherwise v with the passwords of the
// URLs in it (user info or query parameter) replaced by the marker.
func Value(key, v string) string {
	if SensitiveKey(key) && !IsPlaceholder(v) {
		return Marker
	}
	return replaceURLPasswords(v, func(string) string { return Marker })
}

// URLPassword reports whether v holds a literal password in a URL or
// connection string, the ones Value redacts: user info
// (jdbc:mysql://app:pw@db/orders, mongodb://app:pw@mongo) or a password
// parameter (?password=, &password=, ;password= as SQL Server takes it,
// pwd=). A password that is exactly a config-provider placeholder, such
// as ${vault:secret/data/pricing/db:password}, is a reference, not a
// literal; an empty one is none.
func URLPassword(v string) bool {
	found := false
	replaceURLPasswords(v, func(pw string) string {
		found = true
		return pw
	})
	return found
}

// replaceURLPasswords replaces each literal password of the URLs in v by
// what repl returns for it.
func replaceURLPasswords(v string, repl func(pw string) string) string {
	for _, re := range []*regexp.Regexp{urlPassword, paramPassword} {
		v = re.ReplaceAllStringFunc(v, func(m string) string {
			i := re.FindStringSubmatchIndex(m)
			if pw := m[i[4]:i[5]]; pw == "" || IsPlaceholder(pw) {
				return m
			}
			return m[:i[4]] + repl(m[i[4]:i[5]]) + m[i[5]:]
		})
	}
	return v
}

// Config returns a copy of cfg with every credential value redacted; nil
// for nil, so that a redacted copy prints as the original would.
func Config(cfg map[string]string) map[string]string {
	if cfg == nil {
		return nil
	}
	out := make(map[string]string, len(cfg))
	for k, v := range cfg {
		out[k] = Value(k, v)
	}
	return out
}
