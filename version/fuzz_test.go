package version_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/harborpoint/concord/version"
)

// Fuzz targets for every decoder. Each checks that the decoder never panics,
// that what it accepts re-encodes to exactly the input, and that what it
// rejects fails with a *DecodeError matching ErrMalformedToken (the token
// decoders) or with one of the package's sentinels (the display form). Run
// one with, for example,
//
//	go test -run '^$' -fuzz '^FuzzDecodeVector$' -fuzztime 30s ./version

func checkDecodeError(t *testing.T, what string, input any, err error) {
	t.Helper()
	var de *version.DecodeError
	if !errors.As(err, &de) || !errors.Is(err, version.ErrMalformedToken) || de.Reason == "" {
		t.Fatalf("%s(%q): error %v (%T) is not a *DecodeError with a reason matching ErrMalformedToken", what, input, err, err)
	}
}

var seedVectors = []string{
	"{}", "{a:1}", "{lisbon:19 baltimore:4 bristol:1}", "{lisbon#1:300 osaka#70000:4}",
	"{zzzzzzzzzzzzzzzz#9223372036854775807:9223372036854775807}", "{a:1 ab:2 b:3 a#1:4}",
}

func FuzzDecodeVector(f *testing.F) {
	for _, s := range seedVectors {
		b, _ := version.MustVector(s).MarshalBinary()
		f.Add(b)
		f.Add(b[:len(b)-1])
		f.Add(append(b, 0))
	}
	for _, b := range [][]byte{
		nil, {0}, {1}, {2, 0}, {1, 0x80, 0x00}, {1, 0xff, 0xff, 0xff, 0xff, 0x0f},
		tok(1, 2, ent("b", 0, 1), ent("a", 0, 1)), tok(1, 2, ent("a", 0, 1), ent("a", 0, 1)),
		tok(1, 1, ent("a", 0, 0)), tok(1, 1, ent("a", 0, 1<<63)), tok(1, 1, ent(strings.Repeat("a", 17), 0, 1)),
		cat(tok(1, 1), []byte{1, 'a', 0, 0x81, 0x00}),
	} {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := version.DecodeVector(data, version.Limits{})
		if err != nil {
			checkDecodeError(t, "DecodeVector", data, err)
			if !v.IsZero() {
				t.Fatalf("DecodeVector(%x) returned %v with error %v", data, v, err)
			}
			return
		}
		if again, _ := v.AppendBinary(nil); !bytes.Equal(again, data) {
			t.Fatalf("DecodeVector(%x) = %v, which re-encodes to %x", data, v, again)
		}
		text, _ := v.MarshalText()
		if string(text) != b64.EncodeToString(data) {
			t.Fatalf("text of %v is %q, want the base64 of %x", v, text, data)
		}
		if w, err := version.ParseToken(string(text), version.Limits{}); err != nil || !w.Equal(v) {
			t.Fatalf("ParseToken(%q) = %v, %v", text, w, err)
		}
		if w, err := version.ParseVector(v.String()); err != nil || !w.Equal(v) {
			t.Fatalf("ParseVector(%q) = %v, %v", v.String(), w, err)
		}
		for id := range v.All() {
			if _, err := version.ParseID(id.String()); err != nil {
				t.Fatalf("decoded ID %v does not parse: %v", id, err)
			}
		}
	})
}

func FuzzParseToken(f *testing.F) {
	for _, s := range seedVectors {
		tok := version.MustVector(s).Token()
		f.Add(tok)
		f.Add(tok[:len(tok)-1])
		f.Add(tok + "A")
		f.Add(tok + "=")
		f.Add(tok[:2] + "\n" + tok[2:])
		f.Add(strings.ReplaceAll(tok, "b", "+"))
	}
	f.Add("")
	f.Add("AR")
	f.Add("AQA=")
	f.Add("AQAAA")
	f.Fuzz(func(t *testing.T, s string) {
		v, err := version.ParseToken(s, version.Limits{})
		var w version.Vector
		err2 := w.UnmarshalText([]byte(s))
		if (err == nil) != (err2 == nil) || !v.Equal(w) {
			t.Fatalf("ParseToken and UnmarshalText disagree on %q: %v, %v / %v, %v", s, v, err, w, err2)
		}
		if err != nil {
			checkDecodeError(t, "ParseToken", s, err)
			return
		}
		if got := v.Token(); got != s {
			t.Fatalf("ParseToken(%q) = %v, which encodes to %q", s, v, got)
		}
		bin, _ := v.MarshalBinary()
		if u, err := version.DecodeVector(bin, version.Limits{}); err != nil || !u.Equal(v) {
			t.Fatalf("DecodeVector(%x) = %v, %v", bin, u, err)
		}
	})
}

func FuzzParseID(f *testing.F) {
	for _, s := range []string{"lisbon", "lisbon#1", "a", "A.b-c_9", strings.Repeat("z", 16) + "#9223372036854775807",
		"", "#", "a#", "a#0", "a#01", "a#+1", "a#-1", "a#1#2", "a#9223372036854775808", "a b", "a:1",
		strings.Repeat("z", 17), "é", "a#18446744073709551616"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := version.ParseID(s)
		if err != nil {
			if !errors.Is(err, version.ErrInvalidID) {
				t.Fatalf("ParseID(%q): %v, want ErrInvalidID", s, err)
			}
			if !id.IsZero() {
				t.Fatalf("ParseID(%q) returned %v with its error", s, id)
			}
			return
		}
		if id.String() != s {
			t.Fatalf("ParseID(%q) = %v, which prints differently", s, id)
		}
		if txt, err := id.MarshalText(); err != nil || string(txt) != s {
			t.Fatalf("MarshalText of %v = %q, %v", id, txt, err)
		}
		if again, err := version.NewID(id.Name(), id.Incarnation()); err != nil || again != id {
			t.Fatalf("NewID(%q, %d) = %v, %v; want %v", id.Name(), id.Incarnation(), again, err, id)
		}
		// Every ID that parses fits in a token.
		v, err := version.NewVector(version.Dot{ID: id, Counter: 1})
		if err != nil {
			t.Fatalf("NewVector: %v", err)
		}
		if w, err := version.ParseToken(v.Token(), version.Limits{}); err != nil || !w.Equal(v) {
			t.Fatalf("token of %v does not decode: %v, %v", v, w, err)
		}
	})
}

func FuzzParseDot(f *testing.F) {
	for _, s := range []string{"lisbon:1", "lisbon#1:7", "a:9223372036854775807", "", ":", "a:", "a:0", "a:01",
		"a:+1", "a:-1", "a:1x", "a: 1", "a:9223372036854775808", "a#0:1", "a:b:1", ":1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := version.ParseDot(s)
		if err != nil {
			if !errors.Is(err, version.ErrInvalidDot) && !errors.Is(err, version.ErrInvalidID) {
				t.Fatalf("ParseDot(%q): %v, want ErrInvalidDot or ErrInvalidID", s, err)
			}
			return
		}
		if !d.Valid() || d.String() != s {
			t.Fatalf("ParseDot(%q) = %v (valid %v), which prints differently", s, d, d.Valid())
		}
	})
}

// FuzzParseVector: the display form is for humans (braces optional, any
// order, commas or spaces), so an accepted input need not be in canonical
// form; its String form must be, and must parse back to the same vector.
func FuzzParseVector(f *testing.F) {
	for _, s := range seedVectors {
		f.Add(s)
	}
	for _, s := range []string{"", "{", "}", "{{a:1}}", "a:1,b:2", " {b:2, a:1} ", "{a:1 a:2}", "{a:0}", "{a}",
		"{a:1}}", "a:1\tb:2", "{a#01:1}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := version.ParseVector(s)
		if err != nil {
			if !errors.Is(err, version.ErrInvalidDot) && !errors.Is(err, version.ErrInvalidID) &&
				!errors.Is(err, version.ErrDuplicateReplica) {
				t.Fatalf("ParseVector(%q): %v, want ErrInvalidDot, ErrInvalidID or ErrDuplicateReplica", s, err)
			}
			return
		}
		canon := v.String()
		w, err := version.ParseVector(canon)
		if err != nil || !w.Equal(v) || w.String() != canon {
			t.Fatalf("ParseVector(%q) = %v; its String %q parses to %v, %v", s, v, canon, w, err)
		}
		if u, err := version.ParseToken(v.Token(), version.Limits{}); err != nil || !u.Equal(v) {
			t.Fatalf("token of %v does not decode: %v, %v", v, u, err)
		}
	})
}
