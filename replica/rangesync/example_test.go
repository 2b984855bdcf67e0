package rangesync_test

import (
	"fmt"

	"github.com/harborpoint/concord/replica/rangesync"
)

// Two regions hold a thousand holds each; Lisbon lacks one, and they hold
// another at different versions. The exchange finds the two keys in two
// round trips and about a kilobyte, where a digest of every key would
// take tens.
func Example() {
	var lisbon, baltimore rangesync.Index
	for i := range 1000 {
		key := fmt.Sprintf("H-%04d", i)
		_ = baltimore.Put(key, []byte("v1"))
		switch i {
		case 500: // Lisbon never received it
		case 700:
			_ = lisbon.Put(key, []byte("v2")) // a later write in Lisbon
		default:
			_ = lisbon.Put(key, []byte("v1"))
		}
	}

	// The initiator's side; the responder's side is Respond, which a server
	// would call once per request.
	s, err := rangesync.NewInitiator(&lisbon, rangesync.Options{})
	if err != nil {
		panic(err)
	}
	msg, rounds, bytes := s.Initiate(), 0, 0
	var have, need []string
	for msg != nil {
		reply, err := rangesync.Respond(&baltimore, msg, rangesync.Options{})
		if err != nil {
			panic(err)
		}
		rounds++
		bytes += len(msg) + len(reply)
		var h, n []string
		if msg, h, n, err = s.Reconcile(reply); err != nil {
			panic(err)
		}
		have, need = append(have, h...), append(need, n...)
	}
	fmt.Println("Lisbon sends:", have)
	fmt.Println("Lisbon fetches:", need)
	fmt.Println("round trips:", rounds, "bytes:", bytes)
	// Output:
	// Lisbon sends: [H-0700]
	// Lisbon fetches: [H-0500 H-0700]
	// round trips: 2 bytes: 1216
}

// An Index follows the records as they change: Put after every stored
// write, Remove when a record goes.
func ExampleIndex() {
	var x rangesync.Index
	_ = x.Put("H-8821", []byte("lisbon:18"))
	_ = x.Put("H-8821", []byte("lisbon:19")) // replaces the version
	_ = x.Put("H-8823", []byte("lisbon:1"))
	x.Remove("H-8823")
	fmt.Println(x.Len(), x.Has("H-8821", []byte("lisbon:19")), x.Has("H-8821", []byte("lisbon:18")))
	// Output: 1 true false
}
