package sim

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Deletes counts what deletes, re-creations and reaping did in a campaign.
type Deletes struct {
	// Repeated counts deletes of a record already deleted with its current
	// token: acknowledged, nothing stored.
	Repeated int
	// Guarded counts deletes the client did not send: its guard
	// (Op.Apply) refused a branch of the record it read.
	Guarded int
	// Recreations counts acknowledged writes over a delete: an Update
	// with a tombstone's token, a Create over a reaped tombstone, a
	// Resolve that settled a delete concurrent with an update with a value.
	Recreations int
	// Concurrent counts the records first seen holding a delete
	// concurrent with an update (distinct sets of siblings), by what a
	// read then returned: a conflict, the delete, or the update.
	ConcurrentConflict, ConcurrentDeleteWon, ConcurrentUpdateWon int
	// Reaped counts tombstones removed by Replica.Reap, summed over
	// replicas.
	Reaped int
	// Prevented counts replicated versions of a reaped key that the
	// replica's horizon dropped: each would have resurrected the record.
	Prevented int
	// Renewed counts replicas restarted over their store as a new
	// incarnation because their reaped horizons were lost with the
	// process (see package sim's deletes.go).
	Renewed int
	// KeptID counts replicas that had reaped and restarted over their
	// store with their ID: the store keeps the counter floor
	// (replica.FloorStore), so they reissue no dot of a reaped key.
	KeptID int
	// KeptHorizons counts, of KeptID, the restarts over a store that keeps
	// the reaped horizons too (replica.HorizonStore): they refuse after
	// the restart exactly what they refused before.
	KeptHorizons int
	// MaxStoredKeys and MaxStoredBytes are the most records and bytes one
	// replica's store held at the end of any step; MaxHorizons the most
	// reaped horizons one replica kept.
	MaxStoredKeys, MaxStoredBytes, MaxHorizons int
	// FinalStored counts the records stored after the final heal, summed
	// over replicas; FinalTombstones the tombstones among them (must be 0).
	FinalStored, FinalTombstones int
}

func (d *Deletes) add(o Deletes) {
	d.Repeated += o.Repeated
	d.Guarded += o.Guarded
	d.Recreations += o.Recreations
	d.ConcurrentConflict += o.ConcurrentConflict
	d.ConcurrentDeleteWon += o.ConcurrentDeleteWon
	d.ConcurrentUpdateWon += o.ConcurrentUpdateWon
	d.Reaped += o.Reaped
	d.Prevented += o.Prevented
	d.Renewed += o.Renewed
	d.KeptID += o.KeptID
	d.KeptHorizons += o.KeptHorizons
	d.MaxStoredKeys = max(d.MaxStoredKeys, o.MaxStoredKeys)
	d.MaxStoredBytes = max(d.MaxStoredBytes, o.MaxStoredBytes)
	d.MaxHorizons = max(d.MaxHorizons, o.MaxHorizons)
	d.FinalStored += o.FinalStored
	d.FinalTombstones += o.FinalTombstones
}

func (d Deletes) print(p func(string, ...any)) {
	p("deletes: repeated %d, not sent by the client's guard %d; re-creations %d; delete concurrent with an update → conflict %d, delete won %d, update won %d; tombstones reaped %d; late versions dropped by a reaped horizon (resurrections prevented) %d; restarts after reaping: with the same ID over a store keeping the counter floor %d (of them with the horizons, kept by the store %d), as a new incarnation over the store %d",
		d.Repeated, d.Guarded, d.Recreations, d.ConcurrentConflict, d.ConcurrentDeleteWon, d.ConcurrentUpdateWon, d.Reaped, d.Prevented, d.KeptID, d.KeptHorizons, d.Renewed)
	p("storage: at most %d records, %d bytes and %d reaped horizons at one replica; after the final heal %d records stored, %d of them tombstones",
		d.MaxStoredKeys, d.MaxStoredBytes, d.MaxHorizons, d.FinalStored, d.FinalTombstones)
}

// Oversize counts writes and merges over the record limit
// (Workload.MaxRecordBytes).
type Oversize struct {
	// Records counts the records that reached the limit: a write or a
	// merge of theirs was refused as over it.
	Records int
	// Writes counts client writes refused with a *replica.TooLargeError:
	// nothing stored, nothing acknowledged.
	Writes int
	// Merges counts replicated states whose merge with the local record
	// was over the limit: the local record kept, the merge sent to review
	// (rule replica.RecordLimitRule).
	Merges int
	// Settled counts such reviews settled by a client with the queue's
	// token; AtHeal those the operator settled during the final heal.
	Settled, AtHeal int
	// Shrunk counts the operator's settlements refused as too large (the
	// value chosen, with the command keys of every branch it replaces, is
	// over the limit) and made smaller (Workload.Shrink) to settle again.
	Shrunk int
}

func (o *Oversize) add(x Oversize) {
	o.Records += x.Records
	o.Writes += x.Writes
	o.Merges += x.Merges
	o.Settled += x.Settled
	o.AtHeal += x.AtHeal
	o.Shrunk += x.Shrunk
}

func (o Oversize) print(p func(string, ...any)) {
	p("record limit: records that reached it %d; writes refused as too large %d, merges over the limit sent to review %d (settled by clients %d, by the operator at the heal %d; operator settlements refused as too large and made smaller %d)",
		o.Records, o.Writes, o.Merges, o.Settled, o.AtHeal, o.Shrunk)
}

// labels formats acknowledged writes by label, most first.
func labels(m map[string]int) string {
	ks := slices.Collect(maps.Keys(m))
	slices.SortFunc(ks, func(a, b string) int {
		if m[a] != m[b] {
			return m[b] - m[a]
		}
		return strings.Compare(a, b)
	})
	var out []string
	for _, k := range ks {
		out = append(out, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(out, ", ")
}
