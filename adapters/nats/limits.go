package nats

import (
	"context"
	"errors"
	"fmt"
)

// ErrNoRoom is wrapped by the error of [Bucket.MaxRecordBytes] when the
// bucket's bound leaves no room for a record once the framing is taken
// off.
var ErrNoRoom = errors.New("nats: bucket leaves no room for a record")

// Framing is the room [Bucket.MaxRecordBytes] leaves, besides
// 4 bytes per byte of the bucket name, for what JetStream adds to a
// record's state in a message: the header block ("NATS/1.0" and its line
// ends), the compare-and-set header (Nats-Expected-Last-Subject-Sequence and
// a sequence of up to 20 digits) on the local write, and the
// Nats-Stream-Source header (the stream name, an identifier, a sequence,
// the filter subject and its transform) that the server adds when it
// sources the message into another region's bucket. The stream's
// MaxMsgSize and the server's max_payload both count the headers.
const Framing = 512

// MaxRecordBytes returns the largest record state the bucket takes from
// the replica, for replica.Options.MaxRecordBytes: the smaller of the
// stream's MaxMsgSize (BucketOptions.MaxValueSize) and the max_payload of
// the connection the bucket was created on, less the framing (see
// [Framing]). It reads the stream's configuration from the server.
//
// A replica whose limit is above it passes a write that the bucket then
// refuses, as a store error (a transport error, not a typed one), and a
// merge of two concurrent writes can be refused the same way at another
// region; with it, the replica refuses the write itself with a
// *replica.TooLargeError and stores nothing. With nats-server's defaults
// (no MaxValueSize, max_payload 1 MB = 1 MiB) it is slightly below
// replica.DefaultMaxRecordBytes, which is why the default needs it too.
//
// It sees the local region's bounds only: every region's bucket and
// server (and the hub between them, whose max_payload also bounds a
// sourced message) must allow at least as much, which the same
// BucketOptions and server configuration everywhere give.
func (b *Bucket) MaxRecordBytes(ctx context.Context) (int, error) {
	info, err := b.stream.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("nats: bucket %s: %w", b.Bucket(), err)
	}
	bound := int64(-1) // none yet
	if m := int64(info.Config.MaxMsgSize); m > 0 {
		bound = m
	}
	if b.conn != nil {
		if p := b.conn.MaxPayload(); p > 0 && (bound < 0 || p < bound) {
			bound = p
		}
	}
	if bound < 0 { // no connection to ask: nats-server's default max_payload
		bound = 1 << 20
	}
	framing := int64(Framing + 4*len(b.Bucket()))
	if bound <= framing {
		return 0, fmt.Errorf("%w: %s takes messages of %d bytes, the framing needs %d", ErrNoRoom, b.Bucket(), bound, framing)
	}
	return int(bound - framing), nil
}

// MaxRecordBytes is the bucket's [Bucket.MaxRecordBytes].
func (r *Region) MaxRecordBytes(ctx context.Context) (int, error) {
	return r.store.kv.MaxRecordBytes(ctx)
}
