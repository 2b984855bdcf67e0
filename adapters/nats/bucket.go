package nats

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Topology names the regions that share a bucket and the region this
// process runs in. Every region runs its own JetStream domain and keeps a
// bucket of the same name; region R writes only the keys "R.*", and its
// bucket's stream sources from every other region O exactly O's subjects
// ($KV.<bucket>.O.>) — never the whole bucket, which would echo every write
// back and forth for ever.
//
// A region name is 1 to 32 ASCII letters, digits, '-' and '_': it is a key
// prefix, part of consumer names and, by default, the JetStream domain.
type Topology struct {
	// Bucket is the KV bucket name, the same in every region.
	Bucket string
	// Local is the region this process runs in.
	Local string
	// Regions lists every region, Local included.
	Regions []string
	// Domains maps a region to its JetStream domain; a region missing from
	// it (or a nil map) has the domain of its own name.
	Domains map[string]string
}

// Validate checks the topology.
func (t Topology) Validate() error {
	if t.Bucket == "" {
		return errors.New("nats: topology without a bucket")
	}
	if err := checkRegion(t.Local); err != nil {
		return err
	}
	for i, r := range t.Regions {
		if err := checkRegion(r); err != nil {
			return err
		}
		if slices.Contains(t.Regions[:i], r) {
			return fmt.Errorf("nats: region %q listed twice", r)
		}
	}
	if !slices.Contains(t.Regions, t.Local) {
		return fmt.Errorf("nats: local region %q is not among the regions %v", t.Local, t.Regions)
	}
	return nil
}

// Others returns every region but Local, in the order of Regions.
func (t Topology) Others() []string {
	out := make([]string, 0, len(t.Regions))
	for _, r := range t.Regions {
		if r != t.Local {
			out = append(out, r)
		}
	}
	return out
}

// Domain returns the JetStream domain of region.
func (t Topology) Domain(region string) string {
	if d, ok := t.Domains[region]; ok && d != "" {
		return d
	}
	return region
}

// BucketOptions sets the storage of the bucket. The zero BucketOptions is
// valid: file storage, one replica, one value per key.
type BucketOptions struct {
	// Storage is jetstream.FileStorage (the zero value) or MemoryStorage.
	Storage jetstream.StorageType
	// Replicas is the number of copies the region's JetStream cluster keeps
	// of the bucket; 0 means 1. Use 3 in production: a write is
	// acknowledged only once a majority stored it.
	Replicas int
	// History is the number of values kept per key; 0 means 1. concord
	// needs only the latest, because every value carries its whole causal
	// state.
	History uint8
	// MaxValueSize bounds a message of the bucket's stream in bytes, its
	// headers included; 0 means no bound but the server's max_payload.
	// Give every region the same bound, and make the replica's record
	// limit fit under it with [Bucket.MaxRecordBytes].
	MaxValueSize int32
}

// streamName is the stream behind a KV bucket.
func streamName(bucket string) string { return "KV_" + bucket }

// subjects are the stream subjects of region's keys in bucket.
func subjects(bucket, region string) string { return "$KV." + bucket + "." + region + ".>" }

// sourceConsumer is the durable consumer on region from's stream that feeds
// region to; deliverSubject is where it pushes.
func sourceConsumer(from, to string) string { return "concord_src_" + from + "_to_" + to }

func deliverSubject(bucket, from, to string) string {
	return "_concord.src." + bucket + "." + from + "." + to
}

// CreateBucket creates or updates the local region's bucket through js,
// which must talk to the local region's JetStream domain:
//
//   - one durable push consumer per other region on the local stream,
//     filtered to the local region's subjects, that the other region's
//     bucket sources through (so a region that was cut off resumes where it
//     stopped, and the consumer survives restarts on both sides);
//   - the bucket's stream sourcing, from every other region O, O's
//     subjects only, through the consumer O keeps for this region.
//
// Every region calls CreateBucket with the same Topology (but its own
// Local); the order does not matter — a source whose consumer does not
// exist yet retries until the other region has created it. Calling it again
// is harmless.
func CreateBucket(ctx context.Context, js jetstream.JetStream, t Topology, opts BucketOptions) (*Bucket, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	cfg := jetstream.KeyValueConfig{
		Bucket:       t.Bucket,
		Description:  "concord records, region " + t.Local,
		History:      opts.History,
		Storage:      opts.Storage,
		Replicas:     opts.Replicas,
		MaxValueSize: opts.MaxValueSize,
	}
	for _, o := range t.Others() {
		cfg.Sources = append(cfg.Sources, &jetstream.StreamSource{
			Name:     streamName(t.Bucket),
			External: &jetstream.ExternalStream{APIPrefix: "$JS." + t.Domain(o) + ".API"},
			Consumer: &jetstream.StreamConsumerSource{
				Name:           sourceConsumer(o, t.Local),
				DeliverSubject: deliverSubject(t.Bucket, o, t.Local),
			},
		})
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("nats: bucket %s in %s: %w", t.Bucket, t.Local, err)
	}
	replicas := opts.Replicas
	if replicas == 0 {
		replicas = 1
	}
	for _, o := range t.Others() {
		_, err := js.CreateOrUpdatePushConsumer(ctx, streamName(t.Bucket), jetstream.ConsumerConfig{
			Durable:        sourceConsumer(t.Local, o),
			Description:    "concord: " + t.Local + "'s writes for region " + o,
			DeliverSubject: deliverSubject(t.Bucket, t.Local, o),
			FilterSubject:  subjects(t.Bucket, t.Local),
			AckPolicy:      jetstream.AckFlowControlPolicy,
			FlowControl:    true,
			IdleHeartbeat:  time.Second,
			MaxAckPending:  10000,
			Replicas:       replicas,
		})
		if err != nil {
			return nil, fmt.Errorf("nats: source consumer for %s in %s: %w", o, t.Local, err)
		}
	}
	stream, err := js.Stream(ctx, streamName(t.Bucket))
	if err != nil {
		return nil, fmt.Errorf("nats: bucket %s in %s: %w", t.Bucket, t.Local, err)
	}
	return &Bucket{KeyValue: kv, stream: stream, conn: js.Conn()}, nil
}

// Bucket is a region's concord bucket, as [CreateBucket] returns it: the
// JetStream KV bucket, and the stream under it, whose subject list is the
// only atomic listing of keys JetStream offers ([Store.Scan] needs one).
type Bucket struct {
	jetstream.KeyValue
	stream jetstream.Stream
	conn   *natsgo.Conn // the connection it was created on, for its max_payload
}
