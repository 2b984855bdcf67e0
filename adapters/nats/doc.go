// Package nats keeps concord records on NATS JetStream key-value buckets,
// across regions that replicate to each other asynchronously.
//
// # Store
//
// [Store] is a replica.Store on a JetStream KV bucket: Get is KeyValue.Get,
// compare-and-set is KeyValue.Create (revision 0) or KeyValue.Update with
// the last revision, delete is KeyValue.Delete with the last revision, and
// the server's wrong-last-sequence refusal becomes
// replica.ErrRevisionMismatch. Scan lists the region's keys from the
// stream's state (KV has no ordered scan) and reads a page of them. NATS revisions guard only the local
// compare-and-set. They are stream sequences, different in every region for
// the same version, so they are never handed out: the If-Match token a
// client holds is concord's causal context (replica.Record.Token), which is
// the same in every region that holds the same version.
//
// # Topology
//
// Every region runs its own JetStream domain (a cluster, or one server in
// tests) and keeps a bucket of the same name. The regions are linked as
// leaf nodes to a hub (the hub sets LeafNode.NoAdvertise so the leaves do
// not learn each other's addresses). Region R writes only the keys
// "R.<key>", and R's bucket stream sources from every other region O only
// O's subjects ($KV.<bucket>.O.>) through a durable consumer that O keeps
// for R ([CreateBucket] sets both up). So each bucket holds every region's
// copy of every key, and a region that was cut off or restarted resumes
// where its consumer stopped.
//
// Whole-bucket, two-way sourcing — each region sourcing the other's whole
// bucket — must not be used: every sourced message is a new message in the
// sourcing stream and is sourced back, for ever.
//
// # Merging
//
// A [Region] is wiring, not a second replica API. The application makes a
// replica.Replica over [Region.Store] with the Region as its peers
// (replica.Options.Peers), and runs [Region.Run] beside it:
//
//	region, err := concordnats.NewRegion(kv, topo, concordnats.Options{Conn: nc})
//	rep, err := replica.New(id, region.Store(), res, replica.Options[T]{Peers: region})
//	go region.Run(ctx, rep)
//
// Every read and write of a key through the replica first merges the
// other regions' copies of it that the local copy does not cover
// ([Region.Copies]: a get per region from the local bucket, concurrently),
// and so writes back under the local key a merge whose context covers
// everything it merged; the token a client reads is the context a
// conditional write in this region must present. [Region.Run] applies
// every version of another region's key as it arrives (a KV watch), so
// conflicts are resolved — or sent to the review queue — as soon as the two
// branches meet, and the observers count them. A merge never mints a new
// dot and a merge that changes nothing is not written, so regions do not
// ping-pong versions: after a write, every other region makes at most one
// merged write of that key.
//
// # Record limit
//
// A bucket takes messages up to its MaxValueSize (the stream's
// MaxMsgSize) and the server's max_payload (1 MB by default), headers
// included. [Bucket.MaxRecordBytes] returns the smaller of the two less
// JetStream's framing: give it to replica.Options.MaxRecordBytes (and
// Options.Limits.MaxBytes), so that the replica refuses an oversized write
// itself with a *replica.TooLargeError and stores nothing, rather than
// pass it to the bucket and get a transport error back. The default
// replica.DefaultMaxRecordBytes (1 MiB) is above it even with the
// server's defaults.
//
// # Durability
//
// A JetStream file store acknowledges a write once it is in the server's
// page cache and syncs to disk periodically (every two minutes by default,
// the server's sync_interval): a write acknowledged just before a power
// loss of a single server can be lost, and concord then has nothing to
// resolve it against. For acknowledged writes to survive, either
//
//   - run each region's JetStream as a cluster and give the bucket three
//     replicas (BucketOptions.Replicas = 3): a write is acknowledged once a
//     majority has it, so losing one server loses nothing; or
//   - set "jetstream { sync_interval: always }" (server.Options.SyncAlways
//     embedded) to fsync every write before acknowledging it, at a large
//     cost in write latency.
//
// Replication between regions is asynchronous in either case: a write
// acknowledged in one region reaches the others when the link allows,
// which is what makes concurrent branches — and concord — necessary.
//
// A region whose bucket is lost must come back as a new replica
// incarnation (version.ID.Next or version.NewIncarnation), or it would
// reissue dots the other regions already hold.
//
// # Reaping state
//
// A [Store] is a replica.HorizonStore: the region's counter floor and the
// horizons of the keys its replica reaped live in its bucket, under the
// keys "=floor.R" and "=horizon.R.<key>" of region R ('=' starts no
// region name, so they are no record of any region; no other region
// sources them, and Region.Run ignores them). The floor is raised by
// compare-and-set at the revision read. So a replica that reaped
// tombstones restarts over the bucket with its ID, never reissues a dot of
// a reaped key, and still refuses, for the retention, a late copy of a
// record it reaped.
//
// # Claim homes
//
// Package claim keeps its claims in one home per name, with a linearizable
// compare-and-set. [CreateHome] makes a JetStream KV bucket into such a
// home and returns its [HomeStore] (a claim.Store): a stream of three (or
// five) Raft replicas, written only in place (no mirror, no sources), read
// from the stream leader (direct get off), whose keys never expire or get
// deleted or purged — [HomeConfig] says why each setting is needed and
// [CheckHome] checks a bucket made by other tools. The home is not the
// regions' buckets: it is not sourced between regions, and every region's
// process talks to it across the WAN, so a region cut off from it gets
// claim.ErrUnavailable for what needs a claim and nothing else.
//
// # Keys and values
//
// A record key must be a valid KV key (letters, digits, '-', '_', '/', '='
// and '.', no leading, trailing or doubled '.'); a region name is letters,
// digits, '-' and '_'. A value in the bucket that is not a concord record —
// written by another program, or damaged — is never overwritten: in another
// region's key, reads and writes of the record fail with an error wrapping
// replica.ErrMalformed that names the bucket key and revision, and Run logs
// it and goes on; in the local region's key, the replica quarantines the
// record (replica.ErrQuarantined, replica.Replica.Quarantined).
//
// # Deletes and purges made outside concord
//
// concord deletes a record by storing a tombstone (a put) and removes the
// key only when it reaps a stable tombstone (a KV delete at the key's
// revision). A KV delete marker or purge made by another program, with the
// nats.go KV API, is handled as follows:
//
//   - on a region's copy of another region's key: ignored. Run skips delete
//     markers and purges, the region's own key still holds everything it
//     merged, and the copy comes back with the other region's next write.
//   - on a region's own key: it is the loss of that region's state of the
//     record, like a lost bucket for one key. The other regions' copies
//     hold writes of the region's replica ID that it no longer knows it
//     issued, and adopting them would let its next write issue one of
//     those dots again for a different value; so the replica refuses them:
//     its reads and writes of the record fail with a
//     *replica.UnissuedDotError (replica.ErrUnissuedDot, wrapping
//     replica.ErrMalformed) and store nothing, and Run logs and skips the
//     other regions' later versions of the key (WatchStats.Skipped). The
//     other regions keep every write that reached them and go on serving
//     and writing the record. The region's writes that had not reached
//     another region are gone with the key. To recover, run the region's
//     replica under a new incarnation (version.ID.Next): it reads the
//     record back from the other regions' copies and writes it again.
package nats
