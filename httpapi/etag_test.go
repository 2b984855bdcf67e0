package httpapi

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/harborpoint/concord/replica"
)

func strong(s ...string) []EntityTag {
	out := make([]EntityTag, len(s))
	for i, x := range s {
		out[i] = EntityTag{Opaque: x}
	}
	return out
}

func TestParseCondition(t *testing.T) {
	for _, tc := range []struct {
		lines []string
		want  Condition
	}{
		{nil, Condition{}},
		{[]string{""}, Condition{}},
		{[]string{" , ,"}, Condition{}},
		{[]string{`"a"`}, Condition{Tags: strong("a")}},
		{[]string{`"a", "b"`}, Condition{Tags: strong("a", "b")}},
		{[]string{`"a"`, `"b",`}, Condition{Tags: strong("a", "b")}},
		{[]string{` ,"a" ,, W/"b" `}, Condition{Tags: []EntityTag{{Opaque: "a"}, {Opaque: "b", Weak: true}}}},
		{[]string{`""`}, Condition{Tags: strong("")}},
		{[]string{`*`}, Condition{Any: true}},
		{[]string{` * `}, Condition{Any: true}},
		{[]string{"\"\x80\xff\""}, Condition{Tags: strong("\x80\xff")}},
	} {
		got, err := ParseCondition("If-Match", tc.lines)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseCondition(%q) = %+v, %v; want %+v", tc.lines, got, err, tc.want)
		}
	}
}

func TestParseConditionMalformed(t *testing.T) {
	for _, line := range []string{
		`a`, `"a`, `"a" "b"`, `"a";`, `*, "a"`, `"a", *`, `W/a`, `w/"a"`, `"a b"`, "\"a\x00\"", `"a"b`, `**`,
		strings.Repeat(`"x",`, MaxTags+1),
	} {
		_, err := ParseCondition("If-Match", []string{line})
		var he *HeaderError
		if !errors.As(err, &he) || !errors.Is(err, ErrMalformedHeader) || he.Field != "If-Match" {
			t.Errorf("ParseCondition(%q) error = %v, want a *HeaderError wrapping ErrMalformedHeader", line, err)
		}
		if len(he.Value) > 103 {
			t.Errorf("error value not truncated: %d bytes", len(he.Value))
		}
	}
}

func request(h http.Header) *http.Request {
	r := httptest.NewRequest("POST", "/holds/H-1/confirm", nil)
	r.Header = h
	return r
}

func TestIfMatch(t *testing.T) {
	c, err := IfMatch(request(http.Header{"If-Match": {`"abc"`}}))
	if err != nil || !c.MatchStrong("abc") || c.MatchStrong("abd") {
		t.Fatalf("IfMatch = %+v, %v", c, err)
	}
	if c, err := IfMatch(request(http.Header{})); err != nil || !c.IsZero() {
		t.Errorf("absent If-Match = %+v, %v; want zero", c, err)
	}
	_, err = IfMatch(request(http.Header{"If-Match": {`"abc", W/"abc"`}}))
	if !errors.Is(err, ErrWeakTag) {
		t.Errorf("weak If-Match error = %v, want ErrWeakTag", err)
	}
	for _, h := range []http.Header{{}, {"If-Match": {" , "}}} {
		if _, err := RequireIfMatch(request(h)); !errors.Is(err, replica.ErrPreconditionRequired) {
			t.Errorf("RequireIfMatch(%v) error = %v, want replica.ErrPreconditionRequired", h, err)
		}
	}
	// "*" is a precondition: the record must exist (RFC 9110 §13.1.1).
	if c, err := RequireIfMatch(request(http.Header{"If-Match": {"*"}})); err != nil || !c.Any {
		t.Errorf(`RequireIfMatch("*") = %+v, %v; want Any`, c, err)
	}
	if _, err := RequireIfMatch(request(http.Header{"If-Match": {`"x`}})); !errors.Is(err, ErrMalformedHeader) {
		t.Errorf("RequireIfMatch(malformed) error = %v", err)
	}
	if c, err := IfNoneMatch(request(http.Header{"If-None-Match": {`W/"abc"`}})); err != nil || !c.MatchWeak("abc") || c.MatchStrong("abc") {
		t.Errorf("IfNoneMatch weak = %+v, %v", c, err)
	}
}

func TestConditionMatchAndToken(t *testing.T) {
	// Tokens: {lisbon:18}, {lisbon:19}, {lisbon:20}.
	const old, cur, new = "AQEGbGlzYm9uABI", "AQEGbGlzYm9uABM", "AQEGbGlzYm9uABQ"
	list := Condition{Tags: []EntityTag{{Opaque: old}, {Opaque: cur, Weak: true}, {Opaque: new}}}
	for _, tc := range []struct {
		c            Condition
		current      string
		strong, weak bool
		token        string
		status       int // of Token's error, 0 for none
	}{
		{Condition{}, cur, false, false, "", 428},
		{Condition{Any: true}, cur, true, true, cur, 0},
		{Condition{Any: true}, "", false, false, "", 412},
		// A stale token goes to the replica, which refuses it (412) and
		// counts the rejection.
		{list, cur, false, true, old, 0},
		{list, new, true, true, new, 0},
		{list, "", false, false, old, 0},
		{Condition{Tags: []EntityTag{{Opaque: cur, Weak: true}}}, old, false, false, "", 412},
		// A valid entity tag that is no concord token cannot match: 412.
		{Condition{Tags: []EntityTag{{Opaque: "zzz"}, {Opaque: "!!"}}}, old, false, false, "", 412},
	} {
		if got := tc.c.MatchStrong(tc.current); got != tc.strong {
			t.Errorf("%+v.MatchStrong(%q) = %v", tc.c, tc.current, got)
		}
		if got := tc.c.MatchWeak(tc.current); got != tc.weak {
			t.Errorf("%+v.MatchWeak(%q) = %v", tc.c, tc.current, got)
		}
		got, err := tc.c.Token(tc.current)
		if got != tc.token {
			t.Errorf("%+v.Token(%q) = %q, want %q", tc.c, tc.current, got, tc.token)
		}
		w := httptest.NewRecorder()
		Responder{}.Error(w, httptest.NewRequest("POST", "/x", nil), err)
		switch {
		case tc.status == 0 && err != nil:
			t.Errorf("%+v.Token(%q): %v", tc.c, tc.current, err)
		case tc.status != 0 && w.Code != tc.status:
			t.Errorf("%+v.Token(%q): %v answered %d, want %d", tc.c, tc.current, err, w.Code, tc.status)
		case tc.status == 412 && tc.current != "" && w.Header().Get("ETag") != ETag(tc.current):
			t.Errorf("%+v.Token(%q): 412 with ETag %q, want the current one", tc.c, tc.current, w.Header().Get("ETag"))
		}
	}
}

func TestEntityTag(t *testing.T) {
	for _, s := range []string{`"abc"`, `W/"abc"`, `""`} {
		tag, err := ParseEntityTag(s)
		if err != nil || tag.String() != s {
			t.Errorf("ParseEntityTag(%q) = %v, %v", s, tag, err)
		}
	}
	for _, s := range []string{``, `abc`, `"abc" `, `"abc`, `W/`} {
		if _, err := ParseEntityTag(s); !errors.Is(err, ErrMalformedHeader) {
			t.Errorf("ParseEntityTag(%q) error = %v", s, err)
		}
	}
	h := http.Header{}
	SetETag(h, "AQEGbGlzYm9uAQE")
	if got := h.Get("ETag"); got != `"AQEGbGlzYm9uAQE"` {
		t.Errorf("ETag header = %s", got)
	}
}

func FuzzParseCondition(f *testing.F) {
	for _, s := range []string{`"a"`, `*`, `W/"a", "b"`, ` , `, `"a`, "\"\x80\""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCondition("If-Match", []string{s})
		if err != nil {
			if !errors.Is(err, ErrMalformedHeader) {
				t.Fatalf("error %v does not wrap ErrMalformedHeader", err)
			}
			return
		}
		// What parses re-parses to the same condition from its canonical form.
		var parts []string
		if c.Any {
			parts = append(parts, "*")
		}
		for _, tag := range c.Tags {
			parts = append(parts, tag.String())
		}
		again, err := ParseCondition("If-Match", []string{strings.Join(parts, ", ")})
		if err != nil || !reflect.DeepEqual(again, c) {
			t.Fatalf("%q → %+v → %q → %+v, %v", s, c, strings.Join(parts, ", "), again, err)
		}
	})
}
