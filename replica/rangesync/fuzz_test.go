package rangesync

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"testing"
)

// parse decodes a whole message into its ranges.
func parse(msg []byte, limit int, initiator bool) ([]span, error) {
	d, err := newDecoder(msg, limit, initiator)
	if err != nil {
		return nil, err
	}
	var out []span
	lower := bound{}
	for d.more() {
		r, err := d.next(lower)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
		lower = r.upper
	}
	return out, nil
}

// encode writes ranges as a message, skips included.
func encode(spans []span) []byte {
	w := newWriter(64)
	lower := bound{}
	for _, r := range spans {
		switch r.mode {
		case modeSkip:
			w.open(lower, r.upper, modeSkip)
		case modeFingerprint:
			w.fingerprint(lower, r.upper, r.fp)
		default:
			w.items(lower, r.upper, r.mode, r.items)
		}
		lower = r.upper
	}
	return w.bytes()
}

// fuzzIndex is the index the fuzz targets answer from: keys that share
// prefixes, so that bounds and lists compress.
func fuzzIndex() *Index {
	var x Index
	for i := range 300 {
		_ = x.Put(fmt.Sprintf("H-%04d", i*3), []byte{byte(i % 5)})
	}
	return &x
}

// seeds are messages of a real exchange between fuzzIndex and a neighbour:
// fingerprints, bucket splits, lists and diffs.
func seeds(tb testing.TB) [][]byte {
	a := fuzzIndex()
	var b Index
	for i := range 320 {
		if i%17 != 0 {
			_ = b.Put(fmt.Sprintf("H-%04d", i*3+i%2), []byte{byte(i % 5)})
		}
	}
	s, err := NewInitiator(&b, Options{})
	if err != nil {
		tb.Fatal(err)
	}
	out := [][]byte{{}, {ProtocolVersion}, {0x60}, {ProtocolVersion, 0, 0}}
	msg := s.Initiate()
	for msg != nil {
		out = append(out, msg)
		reply, err := Respond(a, msg, Options{})
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, reply)
		if msg, _, _, err = s.Reconcile(reply); err != nil {
			tb.Fatal(err)
		}
	}
	return out
}

// fuzzAnswer checks one side's answer to arbitrary bytes: no panic; a
// refusal is ErrMalformed or ErrVersion; an accepted message round-trips
// through parse and encode, and the answer is itself a valid message within
// the frame limit.
func fuzzAnswer(t *testing.T, x *Index, data []byte, initiator bool) {
	const limit = MinFrameLimit
	var reply []byte
	var err error
	if initiator {
		s, _ := NewInitiator(x, Options{FrameLimit: limit})
		var have, need []string
		reply, have, need, err = s.Reconcile(data)
		if err != nil && (have != nil || need != nil) {
			t.Fatal("a refused message reported keys")
		}
	} else {
		reply, err = Respond(x, data, Options{FrameLimit: limit})
	}
	spans, perr := parse(data, limit, initiator)
	if err != nil {
		if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrVersion) {
			t.Fatalf("error %v is neither ErrMalformed nor ErrVersion", err)
		}
		if perr == nil {
			t.Fatalf("the answer failed (%v) but the message parses", err)
		}
		return
	}
	if perr != nil {
		t.Fatalf("the message was answered but does not parse: %v", perr)
	}
	again, err := parse(encode(spans), limit, initiator)
	if err != nil || !reflect.DeepEqual(again, spans) {
		t.Fatalf("round trip: %v\n%+v\n%+v", err, spans, again)
	}
	if len(reply) > limit {
		t.Fatalf("an answer of %d bytes, limit %d", len(reply), limit)
	}
	if reply != nil {
		if _, err := parse(reply, limit, !initiator); err != nil {
			t.Fatalf("the answer does not parse: %v\n% x", err, reply)
		}
	}
}

// FuzzRespond feeds arbitrary messages to the responder.
func FuzzRespond(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s)
		if len(s) > 4 {
			f.Add(s[:len(s)/2])
			m := bytes.Clone(s)
			m[len(m)/2] ^= 0x41
			f.Add(m)
		}
	}
	x := fuzzIndex() // only read
	f.Fuzz(func(t *testing.T, data []byte) { fuzzAnswer(t, x, data, false) })
}

// FuzzReconcile feeds arbitrary answers to an initiator.
func FuzzReconcile(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s)
		if len(s) > 4 {
			f.Add(s[:len(s)-1])
		}
	}
	x := fuzzIndex() // only read
	f.Fuzz(func(t *testing.T, data []byte) { fuzzAnswer(t, x, data, true) })
}

// TestMalformed: hand-made hostile messages are refused with the reason.
func TestMalformed(t *testing.T) {
	v := ProtocolVersion
	big := make([]byte, MinFrameLimit+1)
	big[0] = v
	for name, msg := range map[string][]byte{
		"empty":                 {},
		"over the frame":        big,
		"truncated fingerprint": {v, 0, modeFingerprint, 1, 2},
		"unknown mode":          {v, 0, 9},
		"bound not rising":      {v, 1, 1, 'b', modeSkip, 1, 1, 'a', modeSkip},
		"empty first bound":     {v, 1, 0, modeSkip},
		"bound shares too much": {v, 5, 1, 'a', modeSkip},
		"range after the end":   {v, 0, modeSkip, 0, modeSkip},
		"list too long":         {v, 0, modeList, listMax + 1},
		"huge list length":      {v, 0, modeList, 0xff, 0xff, 0xff, 0xff, 0x0f},
		"huge key":              {v, 0, modeList, 1, 0, 0xff, 0xff, 0x03},
		"keys not rising":       append(append([]byte{v, 0, modeList, 2, 0, 1, 'b'}, make([]byte, TagLen)...), append([]byte{0, 1, 'a'}, make([]byte, TagLen)...)...),
		"key outside its range": append([]byte{v, 1, 1, 'b', modeList, 1, 0, 1, 'c'}, make([]byte, TagLen)...),
		"diff to the responder": {v, 0, modeDiff, 0},
		"bad varint":            {v, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
	} {
		_, err := Respond(fuzzIndex(), msg, Options{FrameLimit: MinFrameLimit})
		var m *MalformedError
		if !errors.As(err, &m) || !errors.Is(err, ErrMalformed) || m.Reason == "" {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := Respond(fuzzIndex(), []byte{0x60}, Options{}); !errors.Is(err, ErrVersion) {
		t.Errorf("another version: %v", err)
	}
}
