package version_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/harborpoint/concord/version"
)

func encString(dst []byte, v string) ([]byte, error) { return append(dst, v...), nil }
func decString(_ version.Dot, b []byte) (string, error) {
	if bytes.IndexByte(b, 0) >= 0 {
		return "", errors.New("NUL in value")
	}
	return string(b), nil
}

func sampleClock(t testing.TB) version.Clock[string] {
	lis, iad := version.MustID("lisbon"), version.MustID("baltimore#2")
	c, _, err := version.NewClock(version.Vector{}, "a", lis)
	if err != nil {
		t.Fatal(err)
	}
	ctx := c.Join()
	c, _, _ = c.Update(ctx, "b", lis)
	c, _, _ = c.Update(ctx, "c", iad)
	c, _, _ = c.Update(ctx, strings.Repeat("x", 300), lis)
	return c
}

func TestClockRoundTrip(t *testing.T) {
	c := sampleClock(t)
	data, err := c.AppendBinary(nil, func(dst []byte, v string) ([]byte, error) { return append(dst, v...), nil })
	if err != nil {
		t.Fatal(err)
	}
	back, err := version.DecodeClock(data, version.Limits{}, func(_ version.Dot, b []byte) (string, error) { return string(b), nil })
	if err != nil {
		t.Fatal(err)
	}
	if !back.Equal(c) || len(back.Values()) != 3 {
		t.Fatalf("round trip: %v, want %v", back, c)
	}
	for i, v := range back.Values() {
		if v != c.Values()[i] {
			t.Fatalf("value %d: %q, want %q", i, v, c.Values()[i])
		}
	}
	again, _ := back.AppendBinary(nil, encString)
	if !bytes.Equal(again, data) {
		t.Fatal("re-encoding differs")
	}
}

func TestDecodeClockRejects(t *testing.T) {
	good, _ := sampleClock(t).AppendBinary(nil, encString)
	for _, tc := range []struct {
		name string
		data []byte
		lim  version.Limits
		want string // how the reason starts
	}{
		{"empty", nil, version.Limits{}, "empty"},
		{"vector format", []byte{1, 0}, version.Limits{}, "unknown format"},
		{"truncated", good[:len(good)-1], version.Limits{}, "truncated"},
		{"trailing", append(append([]byte{}, good...), 0), version.Limits{}, "trailing bytes"},
		{"too large", good, version.Limits{MaxBytes: 10}, "too large"},
		{"too many siblings", good, version.Limits{MaxEntries: 2}, "too many entries"},
		{"more siblings than counter", []byte{2, 1, 1, 'a', 0, 1, 2, 0, 0}, version.Limits{}, "out of range"},
		{"huge count", []byte{2, 0xff, 0xff, 0xff, 0x7f}, version.Limits{}, "too many entries"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := version.DecodeClock(tc.data, tc.lim, decString)
			requireDecodeError(t, "DecodeClock", err, tc.want)
		})
	}
}

func FuzzDecodeClock(f *testing.F) {
	good, _ := sampleClock(f).AppendBinary(nil, encString)
	f.Add(good)
	f.Add([]byte{2, 0})
	f.Add([]byte{2, 1, 1, 'a', 0, 1, 1, 1, 'x'})
	f.Add([]byte{2, 1, 1, 'a', 0, 1, 2, 0, 0})
	f.Add([]byte{1, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := version.DecodeClock(data, version.Limits{MaxEntries: 64, MaxBytes: 4096}, decString)
		if err != nil {
			var de *version.DecodeError
			if !errors.As(err, &de) && !bytes.Contains([]byte(err.Error()), []byte("NUL in value")) {
				t.Fatalf("untyped error: %v", err)
			}
			return
		}
		again, err := c.AppendBinary(nil, encString)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again, data) {
			t.Fatalf("accepted input re-encodes differently:\n%x\n%x", data, again)
		}
		if c.Len() > 64 {
			t.Fatalf("%d siblings over the limit", c.Len())
		}
	})
}
