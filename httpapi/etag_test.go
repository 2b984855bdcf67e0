package httpapi

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
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
	for _, h := range []http.Header{{}, {"If-Match": {"*"}}, {"If-Match": {" , "}}} {
		if _, err := RequireIfMatch(request(h)); !errors.Is(err, ErrPreconditionRequired) {
			t.Errorf("RequireIfMatch(%v) error = %v, want ErrPreconditionRequired", h, err)
		}
	}
	if _, err := RequireIfMatch(request(http.Header{"If-Match": {`"x`}})); !errors.Is(err, ErrMalformedHeader) {
		t.Errorf("RequireIfMatch(malformed) error = %v", err)
	}
	if c, err := IfNoneMatch(request(http.Header{"If-None-Match": {`W/"abc"`}})); err != nil || !c.MatchWeak("abc") || c.MatchStrong("abc") {
		t.Errorf("IfNoneMatch weak = %+v, %v", c, err)
	}
}

func TestConditionMatchAndToken(t *testing.T) {
	list := Condition{Tags: []EntityTag{{Opaque: "old"}, {Opaque: "cur", Weak: true}, {Opaque: "new"}}}
	for _, tc := range []struct {
		c            Condition
		current      string
		strong, weak bool
		token        string
	}{
		{Condition{}, "cur", false, false, ""},
		{Condition{Any: true}, "cur", true, true, "cur"},
		{Condition{Any: true}, "", false, false, ""},
		{list, "cur", false, true, "old"},
		{list, "new", true, true, "new"},
		{list, "", false, false, "old"},
		{Condition{Tags: []EntityTag{{Opaque: "w", Weak: true}}}, "x", false, false, ""},
	} {
		if got := tc.c.MatchStrong(tc.current); got != tc.strong {
			t.Errorf("%+v.MatchStrong(%q) = %v", tc.c, tc.current, got)
		}
		if got := tc.c.MatchWeak(tc.current); got != tc.weak {
			t.Errorf("%+v.MatchWeak(%q) = %v", tc.c, tc.current, got)
		}
		if got := tc.c.Token(tc.current); got != tc.token {
			t.Errorf("%+v.Token(%q) = %q, want %q", tc.c, tc.current, got, tc.token)
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
