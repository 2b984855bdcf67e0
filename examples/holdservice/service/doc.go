// Package service is Harbor Point's hold service: the cabin holds of one
// region over HTTP, in a replica over any replica.Store, replicating with
// the services of the other regions over HTTP. [Command] is the whole
// program — flags, store, listener, replication loop — that both
// examples/holdservice (records in memory) and the SQLite adapter's
// cmd/holdservice (-store sqlite:PATH) run; [New] and [Service.Handler]
// serve it inside a program of your own.
//
// Routes:
//
//	GET    /holds/{id}          the hold as the region sees it, with its ETag: one
//	                            value and the decisions that merged it, or the
//	                            branches of an open conflict. If-None-Match → 304.
//	PUT    /holds/{id}          create (If-None-Match: * required; 412 if it exists)
//	                            {"cabin":"C14","agency":"lisbon-desk","expires_in":"10m"}
//	                            (or "expires_at": RFC 3339)
//	PATCH  /holds/{id}/note     BLIND write of the agent note: last writer wins. A
//	                            concurrent edit in the other region may replace it,
//	                            silently; fine for a draft note only. With If-Match
//	                            it is a conditional write instead.  {"note":"..."}
//	POST   /holds/{id}/extend   merge-aware command: Idempotency-Key required (400
//	                            without; a replay returns the first response; the
//	                            key with another payload → 422). Concurrent extends
//	                            merge to the later expiry. {"by":"5m"} or
//	                            {"until": RFC 3339}, optional "agency".
//	POST   /holds/{id}/confirm  conditional: If-Match required (428 without, 412 if
//	                            stale, with the current ETag). {"booking_id":"B-3107"}
//	POST   /holds/{id}/release  conditional, like confirm; the body may be empty.
//	DELETE /holds/{id}          conditional delete (tombstone): If-Match required
//	                            (428 without, 412 if stale); 204. An open conflict
//	                            is 409 unless If-Match is the conflict's ETag. A
//	                            delete concurrent with a confirm is a conflict.
//	POST   /holds/{id}/resolve  settle an open conflict: If-Match the conflict's
//	                            ETag, {"keep":"baltimore:1"} (a branch's dot or tag).
//	GET    /conflicts           the region's review queue.
//	GET    /debug/vars          expvar JSON: resolve counters by kind and
//	                            entity.field policy, review-queue depth, and each
//	                            peer's replication status (last success, records
//	                            sent and received, errors).
//	POST   /replicate           the replication endpoint of the peers (token).
//	POST   /admin/sync          one anti-entropy session with each peer now (token).
//	POST   /admin/partition     cut this region off from the others, to stage
//	                            concurrent writes (token);
//	DELETE /admin/partition     heal it and run a session (token).
//
// Every route takes ?region=NAME as a check: a process answers only for its
// own region. Errors are application/problem+json (RFC 9457); see package
// httpapi for the mapping. Illegal transitions (confirming a released hold,
// an expired hold) are 409; a command that cannot be carried out as written
// (shortening a hold, a confirm without booking) is 422.
package service
