package replica_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/version"
)

// A horizon is kept for the retention, then dropped by Reap; a member not
// heard from for longer is refused until it is added again.
func ExampleReplica_Reaping() {
	ctx := context.Background()
	now := time.Date(2026, 11, 26, 14, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	lisbon, baltimore := members(replica.Options[Doc]{Retention: 24 * time.Hour, Now: clock})
	rec, _ := lisbon.Create(ctx, "D-1", Doc{Size: 1})
	_ = replica.AntiEntropy(ctx, lisbon, baltimore)
	_, _ = lisbon.Delete(ctx, "D-1", rec.Token)
	_ = replica.AntiEntropy(ctx, lisbon, baltimore)
	_, _ = lisbon.Reap(ctx)
	st := lisbon.Reaping()
	fmt.Println("horizons:", st.Horizons, "counter floor:", st.CounterFloor)

	now = now.Add(25 * time.Hour) // nothing heard from baltimore meanwhile
	_, _ = lisbon.Reap(ctx)
	st = lisbon.Reaping()
	fmt.Println("horizons:", st.Horizons, "dropped:", st.Dropped, "expired:", st.Expired)
	_, err := lisbon.Sync(ctx, replica.Local(baltimore))
	fmt.Println("sync refused:", errors.Is(err, replica.ErrExpired))

	lisbon.AddMember(version.MustID("baltimore")) // it rejoined with an empty store
	_, err = lisbon.Sync(ctx, replica.Local(baltimore))
	fmt.Println("refused by baltimore, which expired lisbon too:", errors.Is(err, replica.ErrExpired))

	baltimore.AddMember(version.MustID("lisbon"))
	_, err = lisbon.Sync(ctx, replica.Local(baltimore))
	fmt.Println("sync:", err)
	// Output:
	// horizons: 1 counter floor: 2
	// horizons: 0 dropped: 1 expired: [baltimore]
	// sync refused: true
	// refused by baltimore, which expired lisbon too: true
	// sync: <nil>
}
