package version_test

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"runtime"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/harborpoint/concord/internal/proof"
	"github.com/harborpoint/concord/version"
)

// tok builds a binary token by hand: format byte, count, then entries built
// with ent. Tests use it to write malformed tokens the encoder never makes.
func tok(format byte, count uint64, entries ...[]byte) []byte {
	b := binary.AppendUvarint([]byte{format}, count)
	for _, e := range entries {
		b = append(b, e...)
	}
	return b
}

// ent encodes one entry: name length and bytes, incarnation, counter.
func ent(name string, inc, n uint64) []byte {
	b := append([]byte{byte(len(name))}, name...)
	b = binary.AppendUvarint(b, inc)
	return binary.AppendUvarint(b, n)
}

func cat(bs ...[]byte) []byte { return bytes.Join(bs, nil) }

var b64 = base64.RawURLEncoding

func TestDecodeRejects(t *testing.T) {
	valid := tok(1, 2, ent("lisbon", 0, 19), ent("osaka", 1, 4))
	tests := []struct {
		name string
		data []byte
		lim  version.Limits
		want string // how the reason starts
	}{
		{"empty", nil, version.Limits{}, "empty"},
		{"format 0", tok(0, 0), version.Limits{}, "unknown format"},
		{"format 2", tok(2, 1, ent("a", 0, 1)), version.Limits{}, "unknown format"},
		{"format only", []byte{1}, version.Limits{}, "truncated"},
		{"truncated count", []byte{1, 0x80}, version.Limits{}, "truncated"},
		{"count beyond data", tok(1, 3, ent("a", 0, 1)), version.Limits{}, "truncated"},
		{"truncated name", valid[:6], version.Limits{}, "truncated"},
		{"truncated counter", cat(tok(1, 1), []byte{1, 'a', 0, 0x80}), version.Limits{}, "truncated"},
		{"missing counter", cat(tok(1, 1), []byte{2, 'a', 'b', 0}), version.Limits{}, "truncated"},
		{"trailing byte", cat(valid, []byte{0}), version.Limits{}, "trailing bytes"},
		{"trailing after empty", []byte{1, 0, 0}, version.Limits{}, "trailing bytes"},
		{"unsorted", tok(1, 2, ent("osaka", 0, 1), ent("lisbon", 0, 1)), version.Limits{}, "not canonical"},
		{"unsorted incarnations", tok(1, 2, ent("a", 2, 1), ent("a", 1, 1)), version.Limits{}, "not canonical"},
		{"unsorted prefix", tok(1, 2, ent("ab", 0, 1), ent("a", 0, 1)), version.Limits{}, "not canonical"},
		// A replica named twice breaks the strictly increasing order.
		{"duplicate replica", tok(1, 2, ent("a", 0, 1), ent("a", 0, 2)), version.Limits{}, "not canonical"},
		{"zero counter", tok(1, 1, ent("a", 0, 0)), version.Limits{}, "out of range"},
		{"counter MaxCounter+1", tok(1, 1, ent("a", 0, version.MaxCounter+1)), version.Limits{}, "out of range"},
		{"counter 2^64-1", tok(1, 1, ent("a", 0, 1<<64-1)), version.Limits{}, "out of range"},
		{"incarnation MaxCounter+1", tok(1, 1, ent("a", version.MaxCounter+1, 1)), version.Limits{}, "out of range"},
		{"name of 17 bytes", tok(1, 1, ent(strings.Repeat("a", 17), 0, 1)), version.Limits{}, "invalid name"},
		{"name of 0 bytes", tok(1, 1, ent("", 0, 1), []byte{0}), version.Limits{}, "invalid name"},
		{"name byte", tok(1, 1, ent("a:b", 0, 1)), version.Limits{}, "invalid name"},
		{"name NUL", tok(1, 1, ent("a\x00", 0, 1)), version.Limits{}, "invalid name"},
		{"entries over limit", valid, version.Limits{MaxEntries: 1}, "too many entries"},
		{"entries over default", tok(1, version.DefaultMaxEntries+1), version.Limits{}, "too many entries"},
		{"huge count", tok(1, 1<<62), version.Limits{}, "too many entries"},
		{"bytes over limit", valid, version.Limits{MaxBytes: len(valid) - 1}, "too large"},
		{"bytes over default", make([]byte, version.DefaultMaxBytes+1), version.Limits{}, "too large"},
		{"non-shortest count", []byte{1, 0x80, 0x00}, version.Limits{}, "not canonical"},
		{"non-shortest incarnation", cat(tok(1, 1), []byte{1, 'a', 0x80, 0x00, 1}), version.Limits{}, "not canonical"},
		{"non-shortest counter", cat(tok(1, 1), []byte{1, 'a', 0, 0x81, 0x00}), version.Limits{}, "not canonical"},
		{"varint over 64 bits", cat(tok(1, 1), []byte{1, 'a', 0}, bytes.Repeat([]byte{0xff}, 9), []byte{0x02}), version.Limits{}, "out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := version.DecodeVector(tt.data, tt.lim)
			requireDecodeError(t, "DecodeVector", err, tt.want)
			if !v.IsZero() {
				t.Errorf("DecodeVector returned %v with its error", v)
			}
			// The text form of the same bytes fails the same way.
			if len(tt.data) > 0 && tt.want != "too large" {
				_, err := version.ParseToken(b64.EncodeToString(tt.data), tt.lim)
				requireDecodeError(t, "ParseToken", err, tt.want)
			}
			// UnmarshalBinary leaves its receiver unchanged on error.
			if tt.lim == (version.Limits{}) {
				w := version.MustVector("{x:1}")
				err := w.UnmarshalBinary(tt.data)
				requireDecodeError(t, "UnmarshalBinary", err, tt.want)
				if !w.Equal(version.MustVector("{x:1}")) {
					t.Errorf("UnmarshalBinary changed its receiver to %v", w)
				}
			}
		})
	}
}

func TestDecodeTextRejects(t *testing.T) {
	v := version.MustVector("{lisbon:19 osaka#1:4}")
	valid := v.Token()
	bin, _ := v.MarshalBinary()
	tests := []struct {
		name string
		text string
		lim  version.Limits
		want string // how the reason starts
	}{
		{"empty", "", version.Limits{}, "empty"},
		{"bad character", "AQ*A", version.Limits{}, "not base64"},
		{"standard alphabet", strings.Replace(valid, "b", "+", 1), version.Limits{}, "not base64"},
		{"padding", valid + "=", version.Limits{}, "not base64"},
		{"padded token", b64.EncodeToString([]byte{1, 0}) + "==", version.Limits{}, "not base64"},
		{"LF inside", valid[:4] + "\n" + valid[4:], version.Limits{}, "not base64"},
		{"CRLF at end", valid + "\r\n", version.Limits{}, "not base64"},
		{"space", valid[:4] + " " + valid[4:], version.Limits{}, "not base64"},
		{"non-zero trailing bits", "AR", version.Limits{}, "not base64"},
		{"impossible length", "AQAAA", version.Limits{}, "not base64"},
		{"truncated text", valid[:len(valid)-1], version.Limits{}, "not base64"},
		{"truncated bytes", b64.EncodeToString(bin[:len(bin)-3]), version.Limits{}, "truncated"},
		{"text over limit", valid, version.Limits{MaxBytes: 8}, "too large"},
		{"huge text", strings.Repeat("A", 1<<20), version.Limits{}, "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := version.ParseToken(tt.text, tt.lim)
			requireDecodeError(t, "ParseToken", err, tt.want)
			if tt.lim == (version.Limits{}) {
				var v version.Vector
				err := v.UnmarshalText([]byte(tt.text))
				requireDecodeError(t, "UnmarshalText", err, tt.want)
			}
		})
	}
}

// TestDecodeEveryPrefixTruncated: every proper prefix of a valid token is
// refused as truncated (or empty), never accepted.
func TestDecodeEveryPrefixTruncated(t *testing.T) {
	data, _ := version.MustVector("{lisbon:300 osaka#70000:4 a:1}").MarshalBinary()
	for i := range len(data) {
		_, err := version.DecodeVector(data[:i], version.Limits{})
		want := "truncated"
		if i == 0 {
			want = "empty"
		}
		requireDecodeError(t, "DecodeVector(prefix)", err, want)
	}
}

// requireDecodeError checks that err is a *DecodeError matching
// ErrMalformedToken whose reason starts with want, and that its message has
// the package prefix once.
func requireDecodeError(t *testing.T, what string, err error, want string) {
	t.Helper()
	var de *version.DecodeError
	switch {
	case err == nil:
		t.Errorf("%s accepted the input, want %q", what, want)
	case !errors.Is(err, version.ErrMalformedToken):
		t.Errorf("%s: %v does not match ErrMalformedToken", what, err)
	case !errors.As(err, &de):
		t.Errorf("%s: %T is not a *DecodeError", what, err)
	case !strings.HasPrefix(de.Reason, want):
		t.Errorf("%s: reason %q, want it to start with %q", what, de.Reason, want)
	case !strings.HasPrefix(err.Error(), "version: ") || strings.Count(err.Error(), "version: ") != 1:
		t.Errorf("%s: message %q wants the package prefix exactly once", what, err)
	}
}

// TestDecodeChecksLimitsBeforeAllocating: a short input that claims a huge
// number of entries costs only its error, whatever the count.
func TestDecodeChecksLimitsBeforeAllocating(t *testing.T) {
	inputs := map[string]struct {
		data []byte
		lim  version.Limits
	}{
		"count over MaxEntries":   {tok(1, 1<<62), version.Limits{}},
		"count over data":         {tok(1, 1<<40, ent("a", 0, 1)), version.Limits{MaxEntries: 1 << 50}},
		"count at default limit":  {tok(1, version.DefaultMaxEntries), version.Limits{}},
		"large but under MaxByte": {cat(tok(1, 1<<20), make([]byte, 100)), version.Limits{MaxEntries: 1 << 21}},
	}
	// The baseline is what any failure costs: the *DecodeError and its detail.
	baseline := testing.AllocsPerRun(100, func() { _, _ = version.DecodeVector([]byte{9}, version.Limits{}) })
	for name, in := range inputs {
		allocs := testing.AllocsPerRun(100, func() { _, _ = version.DecodeVector(in.data, in.lim) })
		if allocs > baseline+2 {
			t.Errorf("%s: %v allocations, a failure costs %v", name, allocs, baseline)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range 100 {
			_, _ = version.DecodeVector(in.data, in.lim)
		}
		runtime.ReadMemStats(&after)
		if per := (after.TotalAlloc - before.TotalAlloc) / 100; per > 512 {
			t.Errorf("%s: %d bytes allocated per call before failing", name, per)
		}
	}
}

// TestParseTokenChecksLengthBeforeDecoding: a 1 MB If-Match value is refused
// on its length alone — it is neither copied nor base64-decoded (which would
// allocate some 787 KB) — whether it arrives as a string or as bytes.
func TestParseTokenChecksLengthBeforeDecoding(t *testing.T) {
	huge := strings.Repeat("A", 1<<20)
	hugeBytes := []byte(huge)
	var into version.Vector
	for name, parse := range map[string]func() error{
		"ParseToken":    func() error { _, err := version.ParseToken(huge, version.Limits{}); return err },
		"UnmarshalText": func() error { return into.UnmarshalText(hugeBytes) },
		"ParseToken under a small limit": func() error {
			_, err := version.ParseToken(huge[:4096], version.Limits{MaxBytes: 64})
			return err
		},
	} {
		requireDecodeError(t, name, parse(), "too large")
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range 100 {
			_ = parse()
		}
		runtime.ReadMemStats(&after)
		if per := (after.TotalAlloc - before.TotalAlloc) / 100; per > 512 {
			t.Errorf("%s: %d bytes allocated per call to refuse an oversized token", name, per)
		}
	}
}

func TestDecodeAllocatesOnlyTheResult(t *testing.T) {
	v := version.MustVector("{lisbon01:1000 osaka002:20 bristol3:3}")
	data, _ := v.MarshalBinary()
	text := v.Token()
	textBytes := []byte(text)
	if n := testing.AllocsPerRun(100, func() { _, _ = version.DecodeVector(data, version.Limits{}) }); n != 2 {
		t.Errorf("DecodeVector: %v allocations, want 2", n)
	}
	var into version.Vector
	if n := testing.AllocsPerRun(100, func() { _ = into.UnmarshalText(textBytes) }); n != 2 {
		t.Errorf("UnmarshalText: %v allocations, want 2", n)
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = version.ParseToken(text, version.Limits{}) }); n != 2 {
		t.Errorf("ParseToken: %v allocations, want 2", n)
	}
	buf := make([]byte, 0, 64)
	if n := testing.AllocsPerRun(100, func() { buf, _ = v.AppendBinary(buf[:0]) }); n != 0 {
		t.Errorf("AppendBinary into a reused buffer: %v allocations, want 0", n)
	}
}

// TestTokenSize: a context of three replicas with 8-byte names and counters
// below 2^14 is at most 40 bytes in binary (41 with a counter in the
// millions) and 4/3 of that in text.
func TestTokenSize(t *testing.T) {
	v := version.MustVector("{lisbon01:16383 osaka002:200 bristol3:3}")
	data, _ := v.MarshalBinary()
	if len(data) > 40 {
		t.Errorf("%v encodes to %d bytes, want at most 40", v, len(data))
	}
	if text := v.Token(); len(text) != b64.EncodedLen(len(data)) {
		t.Errorf("text token %q has %d bytes, want %d", text, len(text), b64.EncodedLen(len(data)))
	}
}

// genAnyVector draws vectors with any valid names, incarnations and counters,
// so that every varint width and name length is encoded.
func genAnyVector() *rapid.Generator[version.Vector] {
	name := rapid.StringMatching(`[a-zA-Z0-9._-]{1,16}`)
	num := rapid.OneOf(rapid.Uint64Range(0, 300), rapid.Uint64Range(0, version.MaxCounter))
	return rapid.Custom(func(t *rapid.T) version.Vector {
		n := rapid.IntRange(0, 8).Draw(t, "len")
		seen := map[version.ID]bool{}
		var dots []version.Dot
		for range n {
			id, err := version.NewID(name.Draw(t, "name"), num.Draw(t, "inc"))
			if err != nil {
				t.Fatalf("NewID: %v", err)
			}
			if seen[id] {
				continue
			}
			seen[id] = true
			dots = append(dots, version.Dot{ID: id, Counter: max(1, num.Draw(t, "counter"))})
		}
		v, err := version.NewVector(dots...)
		if err != nil {
			t.Fatalf("NewVector: %v", err)
		}
		return v
	})
}

func TestTokenRoundTrip(t *testing.T) {
	proof.Check(t, proof.Histories(t, 200), func(t *rapid.T) {
		v := genAnyVector().Draw(t, "v")
		prefix := []byte("prefix")
		bin, _ := v.AppendBinary(bytes.Clone(prefix))
		if !bytes.HasPrefix(bin, prefix) {
			t.Fatalf("AppendBinary overwrote its dst")
		}
		bin = bin[len(prefix):]
		if m, _ := v.MarshalBinary(); !bytes.Equal(m, bin) {
			t.Fatalf("MarshalBinary %x, AppendBinary %x", m, bin)
		}
		w, err := version.DecodeVector(bin, version.Limits{})
		if err != nil || !w.Equal(v) {
			t.Fatalf("DecodeVector(%x) = %v, %v; want %v", bin, w, err, v)
		}
		if again, _ := w.MarshalBinary(); !bytes.Equal(again, bin) {
			t.Fatalf("re-encoding %v: %x, want %x", w, again, bin)
		}
		text, _ := v.MarshalText()
		if string(text) != b64.EncodeToString(bin) || v.Token() != string(text) {
			t.Fatalf("text %q is not the base64 of %x", text, bin)
		}
		var u version.Vector
		if err := u.UnmarshalText(text); err != nil || !u.Equal(v) {
			t.Fatalf("UnmarshalText(%q) = %v, %v", text, u, err)
		}
		if again, _ := u.MarshalText(); !bytes.Equal(again, text) {
			t.Fatalf("re-encoding text: %q, want %q", again, text)
		}
		if p, err := version.ParseVector(v.String()); err != nil || !p.Equal(v) {
			t.Fatalf("ParseVector(%q) = %v, %v", v.String(), p, err)
		}
		for id, n := range v.All() {
			d := version.Dot{ID: id, Counter: n}
			if p, err := version.ParseDot(d.String()); err != nil || p != d {
				t.Fatalf("ParseDot(%q) = %v, %v", d.String(), p, err)
			}
			txt, _ := id.MarshalText()
			var back version.ID
			if err := back.UnmarshalText(txt); err != nil || back != id || string(txt) != id.String() {
				t.Fatalf("ID %v text %q parses to %v, %v", id, txt, back, err)
			}
		}
	})
}

func TestParseIDAndDot(t *testing.T) {
	good := map[string]string{"lisbon": "lisbon", "lisbon#1": "lisbon#1", "a.b-c_D9#18446744073709551": "a.b-c_D9#18446744073709551"}
	for in, want := range good {
		id, err := version.ParseID(in)
		if err != nil || id.String() != want {
			t.Errorf("ParseID(%q) = %v, %v; want %s", in, id, err, want)
		}
	}
	for _, in := range []string{"", "#1", "lisbon#", "lisbon#0", "lisbon#01", "lisbon#+1", "lisbon#-1", "lisbon# 1",
		"lisbon#1#2", "lisbon#9223372036854775808", "lisbon#18446744073709551616", "lis bon", "lisbon:1",
		strings.Repeat("x", 17), "é"} {
		if id, err := version.ParseID(in); !errors.Is(err, version.ErrInvalidID) {
			t.Errorf("ParseID(%q) = %v, %v; want ErrInvalidID", in, id, err)
		}
	}
	for _, in := range []string{"lisbon:0", "lisbon:01", "lisbon:+5", "lisbon:5abc", "lisbon: 5", "lisbon:", "lisbon:9223372036854775808", "lisbon"} {
		if d, err := version.ParseDot(in); !errors.Is(err, version.ErrInvalidDot) {
			t.Errorf("ParseDot(%q) = %v, %v; want ErrInvalidDot", in, d, err)
		}
	}
	if d, err := version.ParseDot("lisbon#2:9223372036854775807"); err != nil || d.Counter != version.MaxCounter {
		t.Errorf("ParseDot at MaxCounter: %v, %v", d, err)
	}
	for _, in := range []string{"{a:1 a:2}", "{a:1 b}", "{a:0}", "{{a:1}}"} {
		if v, err := version.ParseVector(in); err == nil {
			t.Errorf("ParseVector(%q) = %v, want an error", in, v)
		}
	}
	if v, err := version.ParseVector(" {b:2, a:1} "); err != nil || v.String() != "{a:1 b:2}" {
		t.Errorf("ParseVector: %v, %v", v, err)
	}
}
