// Package httpapi maps concord onto HTTP conventions, so that a service
// built on package replica does not hand-roll them. It uses the standard
// library only.
//
// The three write styles of package replica each have an HTTP shape:
//
//   - Blind writes of last-writer-wins fields need no precondition. A
//     service should say in its documentation (and may say in a response
//     header) that a concurrent blind write in another region can replace
//     the value.
//   - Conditional writes need the token the client read, sent back as
//     If-Match. [RequireIfMatch] refuses a request without one
//     (replica.ErrPreconditionRequired, 428 Precondition Required, RFC
//     6585) or with a weak tag; [Condition.Token] evaluates the field
//     against the record's current ETag: the current tag, or "*" for a
//     record that exists, proceeds; a stale token comes back from the
//     replica as a replica.PreconditionFailed, and a tag that is no token
//     at all as a 412 problem — [Responder] answers both with 412
//     Precondition Failed and the current ETag.
//   - Merge-aware commands need an Idempotency-Key (draft-ietf-httpapi-
//     idempotency-key-header). [Idempotency] is a bounded, concurrency-safe
//     store and middleware: a replay with the same key and payload gets the
//     first response, the same key with another payload gets 422, and a
//     replay while the first request is still running gets 409.
//
// # Entity tags
//
// A concord token (the text form of a version.Vector, URL-safe base64) is
// used as a strong entity tag as is: [ETag] quotes it. [ParseCondition]
// parses If-Match and If-None-Match field values per RFC 9110 §13.1: "*" or
// a comma-separated list of strong or weak (W/"...") tags, empty list
// elements ignored, several field lines combined. Malformed fields fail with
// a [*HeaderError] wrapping [ErrMalformedHeader] or [ErrWeakTag].
//
// # Errors as problem details
//
// [Responder] maps an error to a [Problem] (RFC 9457, served as
// application/problem+json) with errors.Is and errors.As on the sentinels of
// packages replica, resolve, claim and version and of this package, after a
// [Classifier] the service supplies for its domain errors (an illegal state
// transition, say). The mapping:
//
//	stale token (replica.ErrPreconditionFailed)        412, ETag header = current tag
//	no If-Match where required                          428
//	resolve.ConflictRequiresRetry (resolve.ErrConflict)  409, every branch with its tag
//	malformed header, token, body or record             400 (413, 415 with Accept for body size, type)
//	key longer than replica.MaxKeyLen                   400
//	Idempotency-Key missing                             400
//	Idempotency-Key reused with another payload         422
//	Idempotency-Key still in flight                     409
//	blind write of a field that is not LWW              422
//	record not found                                    404
//	record exists (If-None-Match: *)                     412 (409 without If-None-Match)
//	claim held by another owner (claim.ErrClaimed)      409, "owner" and "claim"
//	claim lost: fenced or released (claim.ErrFenced)    409
//	claim home unreachable (claim.ErrUnavailable)       503, Retry-After
//	write contention, deadline                          503, Retry-After
//	anything else                                       500, details only in the log
//
// Every problem's type is a URI under [TypeBase] naming a constant of this
// package, whose documentation says what the client should do, and its
// detail says what happened in words for people, never a Go error chain.
// [Routes] serves a ServeMux so that an unknown path is a 404 problem and a
// known path with an unsupported method a 405 problem with Allow.
//
// # Replication
//
// [NewReplicationHandler] serves a replica's side of anti-entropy on one
// POST endpoint (the reconciliation protocol's messages, pushed states and
// fetched states), and [ReplicationClient] is the other replica's
// replica.Peer for it. The endpoint needs an authentication middleware
// (ReplicationOptions.Auth): a peer can write every record, and concord does
// not invent authentication — a shared bearer token, mTLS or a network
// policy are the service's to choose. Request and answer content are
// bounded (ReplicationOptions.MaxBody); the client splits pushes and fetches
// to fit.
package httpapi
