package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/version"
)

// Errors a caller can branch on with errors.Is. Header errors come wrapped in
// a [*HeaderError] that names the field. A conditional write without
// If-Match wraps replica.ErrPreconditionRequired (428), and a command without
// an Idempotency-Key replica.ErrIdempotencyKeyRequired (400): the same
// conditions as in package replica, so one errors.Is test covers both.
var (
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
	Field string // canonical field name, such as "If-Match"
	Value string // the offending value, truncated to 100 bytes
	// Err is ErrMalformedHeader, ErrWeakTag,
	// replica.ErrPreconditionRequired or replica.ErrIdempotencyKeyRequired.
	Err    error
	Detail string // what is wrong, in words a client can act on
}

// Error implements the error interface: "httpapi: <field> <value>: <detail>".
func (e *HeaderError) Error() string {
	s := "httpapi: " + e.Field
	if e.Value != "" {
		s += fmt.Sprintf(" %q", e.Value)
	}
	return s + ": " + e.Detail
}

// Unwrap returns the sentinel.
func (e *HeaderError) Unwrap() error { return e.Err }

// headerError returns a *HeaderError; an empty detail means the sentinel's
// text without its package prefix.
func headerError(field, value string, err error, detail string) *HeaderError {
	if detail == "" {
		detail = err.Error()
		if _, after, ok := strings.Cut(detail, ": "); ok {
			detail = after
		}
	}
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
// must be present: an absent field fails with a [*HeaderError] wrapping
// replica.ErrPreconditionRequired (428 Precondition Required, RFC 6585);
// otherwise it is [IfMatch]. "*" is accepted: it asks that the record exist,
// whatever its version (RFC 9110 §13.1.1), which [Condition.Token] checks.
func RequireIfMatch(r *http.Request) (Condition, error) {
	c, err := IfMatch(r)
	switch {
	case err != nil:
		return c, err
	case c.IsZero():
		return Condition{}, errPreconditionRequired()
	}
	return c, nil
}

func errPreconditionRequired() *HeaderError {
	return headerError("If-Match", "", replica.ErrPreconditionRequired,
		"this write is conditional: send If-Match with the ETag you read")
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

// Token evaluates c as the If-Match of a conditional write (RFC 9110
// §13.1.1) against the record's current token, current ("" when there is no
// record), and returns the token the write carries to the replica
// (replica.Replica.Update's token).
//
// When c holds, that is current itself. When it does not, and c lists a
// strong tag that is a concord token, Token returns that tag: the replica
// refuses it as stale — a 412 from [Responder] with the current ETag, and a
// Rejected event for the operators — and the replica's check is atomic with
// its write, so a write that raced this call still cannot overwrite a newer
// version. When no listed tag is a concord token at all (a valid entity tag
// such as "zzz" cannot name a version), or c is "*" and there is no record,
// the error is that same 412 as a [*Problem]. The zero Condition fails with
// a [*HeaderError] wrapping replica.ErrPreconditionRequired (428).
func (c Condition) Token(current string) (string, error) {
	switch {
	case c.IsZero():
		return "", errPreconditionRequired()
	case c.MatchStrong(current):
		return current, nil
	}
	for _, t := range c.Tags {
		if _, err := version.ParseToken(t.Opaque, version.Limits{}); err == nil && !t.Weak {
			return t.Opaque, nil
		}
	}
	return "", staleProblem(current)
}
