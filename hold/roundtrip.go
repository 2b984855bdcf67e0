package hold

import (
	"time"
	"unicode/utf8"
)

// RoundTrips reports whether [Codec.Decode] of the bytes [Codec.Append]
// writes for h gives back a hold deep-equal to *h: its expiry is the zero
// time or a time in UTC without a monotonic clock reading, the form Decode
// returns (strings and sets always come back as they were). A replica whose
// codec says so returns the hold it wrote without decoding it again (see
// replica.ExactCodec).
func (Codec) RoundTrips(h *Hold) bool { return canonicalTime(h.ExpiresAt) }

// RoundTripsJSON reports whether encoding/json's round trip of h gives back
// a hold deep-equal to *h: its expiry is as for [Codec.RoundTrips], and its
// strings are valid UTF-8 (encoding/json replaces invalid bytes). The
// default codec of a replica, replica.JSON, asks it.
func (h *Hold) RoundTripsJSON() bool {
	if !canonicalTime(h.ExpiresAt) {
		return false
	}
	for _, s := range [...]string{h.ID, h.Cabin, string(h.Status), h.BookingID, h.Note} {
		if !utf8.ValidString(s) {
			return false
		}
	}
	for a := range h.Agencies.All() {
		if !utf8.ValidString(a) {
			return false
		}
	}
	for k := range h.Commands.All() {
		if !utf8.ValidString(k) {
			return false
		}
	}
	return true
}

// canonicalTime reports whether t is the zero time or a time in UTC with no
// monotonic clock reading: the times a decoder returns.
func canonicalTime(t time.Time) bool {
	return t == time.Time{} || t == t.Round(0).UTC()
}
