package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Errors a caller can branch on with errors.Is. Header errors come wrapped in
// a [*HeaderError] that names the field.
var (
	// ErrPreconditionRequired: a write that needs the token the client read
	// came without If-Match, or with "If-Match: *", which names no version
	// (428 Precondition Required).
	ErrPreconditionRequired = errors.New("httpapi: precondition required: send If-Match with the ETag you read")
	// ErrMalformedHeader: a header field does not follow its grammar (400).
	ErrMalformedHeader = errors.New("httpapi: malformed header field")
	// ErrWeakTag: a weak entity tag (W/"...") in If-Match. Weak tags never
	// match for a write (RFC 9110 §13.1.1 uses strong comparison); a client
	// that sends one has the wrong tag, so it is refused (400) rather than
	// answered with a 412 it cannot fix by refetching.
	ErrWeakTag = errors.New("httpapi: weak entity tag cannot guard a write")
)

// MaxTags bounds the entity tags accepted in one If-Match or If-None-Match
// field; a longer list is malformed.
const MaxTags = 64

// HeaderError reports a request header field that cannot be used.
type HeaderError struct {
	Field  string // canonical field name, such as "If-Match"
	Value  string // the offending value, truncated to 100 bytes
	Err    error  // ErrMalformedHeader, ErrWeakTag or ErrPreconditionRequired
	Detail string // what is wrong, in words
}

// Error implements the error interface.
func (e *HeaderError) Error() string {
	s := fmt.Sprintf("%v: %s", e.Err, e.Field)
	if e.Value != "" {
		s += fmt.Sprintf(" %q", e.Value)
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Unwrap returns the sentinel.
func (e *HeaderError) Unwrap() error { return e.Err }

func headerError(field, value string, err error, detail string) *HeaderError {
	if len(value) > 100 {
		value = value[:100] + "..."
	}
	return &HeaderError{Field: field, Value: value, Err: err, Detail: detail}
}

// EntityTag is an HTTP entity tag (RFC 9110 §8.8.3). The zero EntityTag is
// the strong tag "" (two quotes), which concord never issues.
type EntityTag struct {
	// Opaque is the text between the quotes: for concord's tags, a token.
	Opaque string
	// Weak marks a weak tag, W/"...".
	Weak bool
}

// String returns the tag in header syntax: "opaque" or W/"opaque".
func (t EntityTag) String() string {
	if t.Weak {
		return `W/"` + t.Opaque + `"`
	}
	return `"` + t.Opaque + `"`
}

// ETag returns the strong entity tag of a concord token (the token in double
// quotes), the value of an ETag header field. Tokens are URL-safe base64, so
// they need no escaping.
func ETag(token string) string { return `"` + token + `"` }

// SetETag sets the ETag header field of h to the tag of token.
func SetETag(h http.Header, token string) { h.Set("ETag", ETag(token)) }

// ParseEntityTag parses one entity tag, strong ("x") or weak (W/"x").
func ParseEntityTag(s string) (EntityTag, error) {
	t, rest, err := parseTag(s)
	if err != nil {
		return EntityTag{}, headerError("ETag", s, ErrMalformedHeader, err.Error())
	}
	if rest != "" {
		return EntityTag{}, headerError("ETag", s, ErrMalformedHeader, "text after the entity tag")
	}
	return t, nil
}

// parseTag parses an entity tag at the start of s and returns the rest.
func parseTag(s string) (EntityTag, string, error) {
	var t EntityTag
	if strings.HasPrefix(s, "W/") {
		t.Weak, s = true, s[2:]
	}
	if !strings.HasPrefix(s, `"`) {
		return t, s, errors.New(`entity tag must start with a double quote (or W/")`)
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			t.Opaque = s[1:i]
			return t, s[i+1:], nil
		case c == 0x21 || c >= 0x23 && c <= 0x7e || c >= 0x80: // etagc
		default:
			return t, s, fmt.Errorf("byte %q not allowed in an entity tag", c)
		}
	}
	return t, s, errors.New("entity tag has no closing double quote")
}

// Condition is a parsed If-Match or If-None-Match field: "*" (Any) or a list
// of entity tags. The zero Condition means the field was absent.
type Condition struct {
	// Any is set for "*": any current representation.
	Any bool
	// Tags are the listed entity tags, in order, when Any is not set.
	Tags []EntityTag
}

// IsZero reports whether c is the zero Condition: the field was absent.
func (c Condition) IsZero() bool { return !c.Any && len(c.Tags) == 0 }

// ParseCondition parses the lines of an If-Match or If-None-Match field
// (RFC 9110 §13.1.1, §13.1.2): "*", or a comma-separated list of entity
// tags in which empty elements are ignored; several lines form one list.
// No lines, or only empty elements, give the zero Condition. Errors are
// [*HeaderError] values wrapping [ErrMalformedHeader].
func ParseCondition(field string, lines []string) (Condition, error) {
	var c Condition
	for _, line := range lines {
		s := line
		for {
			s = strings.TrimLeft(s, " \t")
			if s == "" {
				break
			}
			switch {
			case s[0] == ',':
				s = s[1:]
				continue
			case s[0] == '*':
				c.Any = true
				s = s[1:]
			default:
				t, rest, err := parseTag(s)
				if err != nil {
					return Condition{}, headerError(field, line, ErrMalformedHeader, err.Error())
				}
				if len(c.Tags) == MaxTags {
					return Condition{}, headerError(field, line, ErrMalformedHeader, fmt.Sprintf("more than %d entity tags", MaxTags))
				}
				c.Tags = append(c.Tags, t)
				s = rest
			}
			s = strings.TrimLeft(s, " \t")
			if s != "" && s[0] != ',' {
				return Condition{}, headerError(field, line, ErrMalformedHeader, "list elements must be separated by commas")
			}
		}
	}
	if c.Any && len(c.Tags) > 0 {
		return Condition{}, headerError(field, strings.Join(lines, ", "), ErrMalformedHeader, `"*" cannot be combined with entity tags`)
	}
	return c, nil
}

// IfMatch parses the If-Match field of r. An absent field gives the zero
// Condition. Weak tags are refused with [ErrWeakTag]: If-Match guards writes,
// and a weak tag never matches one.
func IfMatch(r *http.Request) (Condition, error) {
	c, err := ParseCondition("If-Match", r.Header.Values("If-Match"))
	if err != nil {
		return c, err
	}
	for _, t := range c.Tags {
		if t.Weak {
			return Condition{}, headerError("If-Match", t.String(), ErrWeakTag, "send the strong ETag you read")
		}
	}
	return c, nil
}

// RequireIfMatch parses the If-Match field of a conditional write, which
// must name a version: an absent field, or "*", fails with a [*HeaderError]
// wrapping [ErrPreconditionRequired] (428); otherwise it is [IfMatch].
func RequireIfMatch(r *http.Request) (Condition, error) {
	c, err := IfMatch(r)
	switch {
	case err != nil:
		return c, err
	case c.Any:
		return Condition{}, headerError("If-Match", "*", ErrPreconditionRequired, `"*" names no version; send the ETag you read`)
	case c.IsZero():
		return Condition{}, headerError("If-Match", "", ErrPreconditionRequired, "this write is conditional")
	}
	return c, nil
}

// IfNoneMatch parses the If-None-Match field of r. An absent field gives the
// zero Condition. Weak tags are allowed (If-None-Match compares weakly).
func IfNoneMatch(r *http.Request) (Condition, error) {
	return ParseCondition("If-None-Match", r.Header.Values("If-None-Match"))
}

// MatchStrong reports whether c holds for a resource whose current token is
// current, by strong comparison, as If-Match is evaluated: "*" matches any
// existing resource (current != ""), a tag matches if it is strong and its
// opaque text is current. The zero Condition matches nothing.
func (c Condition) MatchStrong(current string) bool {
	if current == "" {
		return false
	}
	if c.Any {
		return true
	}
	for _, t := range c.Tags {
		if !t.Weak && t.Opaque == current {
			return true
		}
	}
	return false
}

// MatchWeak reports whether c matches current by weak comparison, as
// If-None-Match is evaluated: "*" matches any existing resource, and a tag
// matches if its opaque text is current, weak or not.
func (c Condition) MatchWeak(current string) bool {
	if current == "" {
		return false
	}
	if c.Any {
		return true
	}
	for _, t := range c.Tags {
		if t.Opaque == current {
			return true
		}
	}
	return false
}

// Token returns the token a conditional write should carry to the replica
// (replica.Replica.Update's token), given the record's current token: the
// listed tag equal to current if there is one (or current itself for "*"),
// else the first listed tag, so that the replica refuses it as stale (412)
// or malformed (400). The replica compares the token again when it writes,
// so a write that raced this call still cannot overwrite a newer version.
// The zero Condition gives "", which the replica refuses as missing.
func (c Condition) Token(current string) string {
	if c.MatchStrong(current) {
		return current
	}
	for _, t := range c.Tags {
		if !t.Weak {
			return t.Opaque
		}
	}
	return ""
}
