package httpapi

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/version"
)

// Acknowledgements over HTTP, the fourth operation of the replication
// endpoint:
//
//	'A' acknowledge  keys (at most replica.MaxAckKeys, each at most
//	                 replica.MaxKeyLen bytes): the answer is a uvarint
//	                 count of the keys it answers (a prefix of the request,
//	                 at least one: the client asks again for the rest), the
//	                 replica's ID in text form (a key-like field), then for
//	                 each key answered that the replica holds the key and
//	                 the binary form of the context it holds
//	                 (Replica.Acknowledge)
//
// A context too large for an answer is left out: that key is not
// acknowledged by this session.

const opAck byte = 'A'

// ack serves an acknowledgement request.
func (h *replicationHandler[T]) ack(ctx context.Context, body []byte) ([]byte, error) {
	keys, err := decodeAckKeys(body)
	if err != nil {
		return nil, err
	}
	a, err := h.r.Acknowledge(ctx, keys)
	if err != nil {
		return nil, err
	}
	id := a.Replica.AppendText(nil)
	room := h.opts.MaxBody - 2*binary.MaxVarintLen64 - int64(len(id))
	var out []byte
	answered := 0
	for _, k := range keys {
		var next []byte
		if c, ok := a.Held[k]; ok {
			bin, _ := c.AppendBinary(nil) // never fails
			next = appendBytes(appendBytes(nil, []byte(k)), bin)
		}
		if int64(len(out)+len(next)) > room {
			if answered > 0 {
				break // the client asks again for the rest
			}
			next = nil // too large for any answer: not acknowledged
		}
		out = append(out, next...)
		answered++
	}
	head := appendBytes(binary.AppendUvarint(nil, uint64(answered)), id)
	return append(head, out...), ctx.Err()
}

// decodeAckKeys decodes the keys of an acknowledgement request, refusing
// more than replica.MaxAckKeys keys or a key longer than replica.MaxKeyLen.
func decodeAckKeys(body []byte) ([]string, error) {
	var keys []string
	for d := (decoder{b: body}); !d.done(); {
		k, err := d.bytes("key")
		if err != nil {
			return nil, err
		}
		switch {
		case len(keys) == replica.MaxAckKeys:
			return nil, &BodyError{Err: ErrMalformedBody, Detail: fmt.Sprintf("more than %d keys to acknowledge", replica.MaxAckKeys)}
		case len(k) > replica.MaxKeyLen:
			return nil, &BodyError{Err: ErrMalformedBody, Detail: fmt.Sprintf("a key of %d bytes, limit %d", len(k), replica.MaxKeyLen)}
		}
		keys = append(keys, string(k))
	}
	return keys, nil
}

// Acknowledge implements [replica.Acknowledger]: it asks the peer what it
// holds of keys, in requests of at most MaxBody bytes. The answer must name
// the replica c.Replica; without c.Replica it fails with an error wrapping
// [replica.ErrNoAcks], and the session records no acknowledgement. An
// answer that names another replica, or does not decode, fails with a
// [*replica.AckError].
func (c *ReplicationClient) Acknowledge(ctx context.Context, keys []string) (replica.Ack, error) {
	if c.Replica.IsZero() {
		return replica.Ack{}, fmt.Errorf("httpapi: replication peer %s: %w: ReplicationClient.Replica is not set", c.URL, replica.ErrNoAcks)
	}
	if len(keys) > replica.MaxAckKeys {
		return replica.Ack{}, fmt.Errorf("httpapi: %d keys to acknowledge, at most %d", len(keys), replica.MaxAckKeys)
	}
	a := replica.Ack{Replica: c.Replica, Held: replica.Digest{}}
	for len(keys) > 0 {
		content, n := batch(c, opAck, keys, func(k string) []byte { return appendBytes(nil, []byte(k)) })
		answer, err := c.do(ctx, content)
		if err != nil {
			return replica.Ack{}, err
		}
		answered, err := c.decodeAck(answer, keys[:n], a.Held)
		if err != nil {
			return replica.Ack{}, fmt.Errorf("httpapi: replication peer %s: %w", c.URL, err)
		}
		keys = keys[answered:]
	}
	return a, nil
}

// decodeAck decodes an answer to a request for asked into held, and
// returns how many of asked it answers.
func (c *ReplicationClient) decodeAck(answer []byte, asked []string, held replica.Digest) (int, error) {
	bad := func(key, reason string) error { return &replica.AckError{Peer: c.Replica, Key: key, Reason: reason} }
	d := decoder{b: answer}
	answered, err := d.uvarint("answered")
	if err != nil {
		return 0, bad("", err.Error())
	}
	if answered == 0 || answered > uint64(len(asked)) {
		return 0, bad("", fmt.Sprintf("it answered %d of %d keys", answered, len(asked)))
	}
	idText, err := d.bytes("replica")
	if err != nil {
		return 0, bad("", err.Error())
	}
	var id version.ID
	if err := id.UnmarshalText(idText); err != nil {
		return 0, bad("", fmt.Sprintf("replica ID: %v", err))
	}
	if id != c.Replica {
		return 0, &replica.AckError{Peer: id, Reason: fmt.Sprintf("the answer names %v, the peer is %v", id, c.Replica)}
	}
	want := make(map[string]bool, answered)
	for _, k := range asked[:answered] {
		want[k] = true
	}
	for !d.done() {
		k, err := d.bytes("key")
		if err != nil {
			return 0, bad("", err.Error())
		}
		bin, err := d.bytes("context")
		if err != nil {
			return 0, bad(string(k), err.Error())
		}
		if !want[string(k)] {
			return 0, bad(string(k), "a key not asked about, or answered twice")
		}
		want[string(k)] = false
		var v version.Vector
		if err := v.UnmarshalBinary(bin); err != nil {
			return 0, bad(string(k), fmt.Sprintf("context: %v", err))
		}
		held[string(k)] = v
	}
	return int(answered), nil
}
