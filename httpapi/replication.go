package httpapi

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"

	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/replica/rangesync"
	"github.com/harborpoint/concord/version"
)

// Replication over HTTP: one endpoint, POST only, whose content starts with
// an operation byte:
//
//	'R' reconcile  a message of package rangesync; the answer is the
//	               replica's (Replica.Respond)
//	'P' push       states: the replica applies each (Replica.ApplyDeltas);
//	               the answer lists the keys it refused, with why
//	'F' fetch      keys, each with the fetcher's causal context of it: the
//	               answer holds the replica's states that context does not
//	               cover (Replica.Deltas), as many as fit in the answer
//	'A' acknowledge keys: the answer is what the replica holds of each
//	               (Replica.Acknowledge; the format is in acks.go)
//
// A key is a uvarint length and its bytes; a state, a key then a uvarint
// length and the encoded state; a wanted record, a key then a uvarint
// length and the binary form of a version.Vector (empty for none). The answer to a push is a uvarint count of
// refusals, each a key and a uvarint length and the reason's text. The
// answer to a fetch is a uvarint count of the keys it answers (a prefix of
// the request: the client asks again for the rest), then a state for each
// of them the replica holds. Errors are problem details.

// ReplicationMediaType is the content type of replication requests and
// answers.
const ReplicationMediaType = "application/vnd.concord.replication"

// DefaultMaxReplicationBody bounds replication requests and answers when
// the options say 0: 8 MiB.
const DefaultMaxReplicationBody = 8 << 20

const (
	opReconcile byte = 'R'
	opPush      byte = 'P'
	opFetch     byte = 'F'
)

// ErrNoAuth is returned by [NewReplicationHandler] without an Auth
// middleware.
var ErrNoAuth = errors.New("httpapi: a replication endpoint needs ReplicationOptions.Auth")

// ReplicationOptions configures [NewReplicationHandler].
type ReplicationOptions struct {
	// Auth wraps the endpoint in the service's authentication: middleware
	// that answers requests it does not accept itself (401, 403) and hands
	// the others on. It is required: anyone who reaches a replication
	// endpoint can write every record, and concord does not invent
	// authentication. A shared bearer token, a check of the client
	// certificate (r.TLS.PeerCertificates) after mTLS, or a network policy
	// all fit; pass func(h http.Handler) http.Handler { return h } only if
	// something outside the handler already authenticates. Middleware that
	// knows which replica it authenticated should name it in the request's
	// context (replica.WithCaller): the endpoint then refuses a member the
	// replica has not heard from for longer than its retention (403,
	// TypeMemberExpired) before any state moves.
	Auth func(http.Handler) http.Handler
	// MaxBody bounds request and answer content. Zero means
	// DefaultMaxReplicationBody. It must exceed the replicas' frame limit
	// (Options.Reconcile.FrameLimit) and their largest record.
	MaxBody int64
	// Logger receives states the replica refused and internal errors. Nil
	// means none.
	Logger *slog.Logger
}

// NewReplicationHandler returns the replication endpoint of r, for the
// [ReplicationClient] of another replica: the server side of
// [replica.Peer].
func NewReplicationHandler[T any](r *replica.Replica[T], opts ReplicationOptions) (http.Handler, error) {
	if opts.Auth == nil {
		return nil, ErrNoAuth
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxReplicationBody
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	h := &replicationHandler[T]{r: r, opts: opts}
	return opts.Auth(h), nil
}

type replicationHandler[T any] struct {
	r    *replica.Replica[T]
	opts ReplicationOptions
}

func (h *replicationHandler[T]) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := h.read(w, req)
	if err != nil {
		h.fail(w, req, err)
		return
	}
	// An expired member is refused as a whole, whatever it asks (reconcile,
	// push, fetch, acknowledgements): one 403 before any state moves, not
	// a refusal per state it pushes nor states served to it.
	if err := h.r.AdmitCaller(req.Context()); err != nil {
		h.fail(w, req, err)
		return
	}
	var answer []byte
	switch body[0] {
	case opReconcile:
		answer, err = h.r.Respond(req.Context(), body[1:])
	case opPush:
		answer, err = h.push(req.Context(), body[1:])
	case opFetch:
		answer, err = h.fetch(req.Context(), body[1:])
	case opAck:
		answer, err = h.ack(req.Context(), body[1:])
	default:
		err = &BodyError{Err: ErrMalformedBody, Detail: fmt.Sprintf("unknown replication operation 0x%02x", body[0])}
	}
	if err != nil {
		h.fail(w, req, err)
		return
	}
	w.Header().Set("Content-Type", ReplicationMediaType)
	_, _ = w.Write(answer)
}

// read checks the method and media type and reads the content, which must
// hold at least the operation byte.
func (h *replicationHandler[T]) read(w http.ResponseWriter, req *http.Request) ([]byte, error) {
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return nil, &Problem{Title: "Method not allowed", Status: http.StatusMethodNotAllowed, Detail: "replication takes POST"}
	}
	if mt, _, err := mime.ParseMediaType(req.Header.Get("Content-Type")); err != nil || mt != ReplicationMediaType {
		return nil, &BodyError{Err: ErrUnsupportedMediaType, Detail: "send " + ReplicationMediaType}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, h.opts.MaxBody))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, &BodyError{Err: ErrBodyTooLarge, Detail: fmt.Sprintf("limit %d bytes", h.opts.MaxBody)}
	case err != nil:
		return nil, &BodyError{Err: ErrMalformedBody, Detail: err.Error()}
	case len(body) == 0:
		return nil, &BodyError{Err: ErrMalformedBody, Detail: "no replication operation"}
	}
	return body, nil
}

func (h *replicationHandler[T]) fail(w http.ResponseWriter, req *http.Request, err error) {
	if errors.Is(err, rangesync.ErrMalformed) || errors.Is(err, rangesync.ErrVersion) {
		err = &BodyError{Err: ErrMalformedBody, Detail: err.Error()}
	}
	Responder{Logger: h.opts.Logger}.Error(w, req, err)
}

func (h *replicationHandler[T]) push(ctx context.Context, body []byte) ([]byte, error) {
	states, err := decodeStates(body)
	if err != nil {
		return nil, err
	}
	_, refused := h.r.ApplyDeltas(ctx, states)
	out := binary.AppendUvarint(nil, uint64(len(refused)))
	for _, e := range refused {
		h.opts.Logger.Warn("httpapi: replicated state refused", "key", e.Key, "err", e.Err)
		out = appendBytes(appendBytes(out, []byte(e.Key)), []byte(e.Err.Error()))
	}
	return out, ctx.Err()
}

func (h *replicationHandler[T]) fetch(ctx context.Context, body []byte) ([]byte, error) {
	var wants []replica.Want
	for d := (decoder{b: body}); !d.done(); {
		k, err := d.bytes("key")
		if err != nil {
			return nil, err
		}
		c, err := d.bytes("context")
		if err != nil {
			return nil, err
		}
		w := replica.Want{Key: string(k)}
		if len(c) > 0 {
			if err := w.Context.UnmarshalBinary(c); err != nil {
				return nil, &BodyError{Err: ErrMalformedBody, Detail: fmt.Sprintf("the context of %q: %v", k, err)}
			}
		}
		wants = append(wants, w)
	}
	var out []byte
	answered := 0
	for _, w := range wants {
		states, errs := h.r.Deltas(ctx, []replica.Want{w})
		for _, e := range errs {
			h.opts.Logger.Error("httpapi: a record asked for cannot be read", "key", e.Key, "err", e.Err)
		}
		var next []byte
		for _, s := range states {
			next = appendBytes(appendBytes(next, []byte(s.Key)), s.Data)
		}
		switch room := h.opts.MaxBody - binary.MaxVarintLen64; {
		case int64(len(next)) > room:
			h.opts.Logger.Error("httpapi: a record asked for is larger than an answer may be", "key", w.Key, "bytes", len(next), "limit", h.opts.MaxBody)
			next = nil
		case int64(len(out)+len(next)) > room:
			return append(binary.AppendUvarint(nil, uint64(answered)), out...), ctx.Err() // the client asks again for the rest
		}
		out = append(out, next...)
		answered++
	}
	return append(binary.AppendUvarint(nil, uint64(answered)), out...), ctx.Err()
}

func appendBytes(dst, b []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...)
}

// decoder reads the length-prefixed fields of replication content.
type decoder struct {
	b   []byte
	off int
}

func (d *decoder) done() bool { return d.off >= len(d.b) }

func (d *decoder) uvarint(what string) (uint64, error) {
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		return 0, &BodyError{Err: ErrMalformedBody, Detail: fmt.Sprintf("bad length of %s at byte %d", what, d.off)}
	}
	d.off += n
	return v, nil
}

func (d *decoder) bytes(what string) ([]byte, error) {
	n, err := d.uvarint(what)
	if err != nil {
		return nil, err
	}
	if n > uint64(len(d.b)-d.off) {
		return nil, &BodyError{Err: ErrMalformedBody, Detail: fmt.Sprintf("%s of %d bytes at byte %d overruns the content", what, n, d.off)}
	}
	b := d.b[d.off : d.off+int(n)]
	d.off += int(n)
	return b, nil
}

func decodeStates(body []byte) ([]replica.Delta, error) {
	var out []replica.Delta
	for d := (decoder{b: body}); !d.done(); {
		k, err := d.bytes("key")
		if err != nil {
			return nil, err
		}
		data, err := d.bytes("state")
		if err != nil {
			return nil, err
		}
		out = append(out, replica.Delta{Key: string(k), Data: data})
	}
	return out, nil
}

// ErrRefused is wrapped by the error of each state a peer refused to apply
// (in the refusals [ReplicationClient.Push] returns), with the peer's reason.
var ErrRefused = errors.New("httpapi: the peer refused the state")

// ErrPeer is wrapped by the errors of a [ReplicationClient] whose peer
// answered with an error status; the error is a [*PeerError].
var ErrPeer = errors.New("httpapi: replication peer refused the request")

// PeerError is a replication request the peer answered with an error. A
// 403 of [TypeMemberExpired] (the peer has not heard from this replica for
// longer than its retention) also matches [replica.ErrExpired] with
// errors.Is.
type PeerError struct {
	URL    string
	Status int
	Type   string // the problem's type, if the answer was a problem
	Detail string // the problem's title and detail, or the content's start
}

// Error implements the error interface.
func (e *PeerError) Error() string {
	return fmt.Sprintf("httpapi: replication peer %s: %d %s", e.URL, e.Status, e.Detail)
}

// Unwrap returns ErrPeer, and replica.ErrExpired too for a problem of
// [TypeMemberExpired].
func (e *PeerError) Unwrap() []error {
	if e.Type == TypeMemberExpired {
		return []error{ErrPeer, replica.ErrExpired}
	}
	return []error{ErrPeer}
}

// ReplicationClient is a [replica.Peer] over HTTP: the client of another
// replica's [NewReplicationHandler] endpoint at URL. The zero value is not
// usable; set URL. It is safe for concurrent use.
type ReplicationClient struct {
	// URL is the peer's replication endpoint.
	URL string
	// Client sends the requests; nil means http.DefaultClient. Its
	// Transport is the place for a client certificate.
	Client *http.Client
	// Header is added to every request, such as an Authorization field
	// with the shared bearer token the peer's Auth middleware checks.
	Header http.Header
	// MaxBody bounds request and answer content; it should equal the
	// peer's ReplicationOptions.MaxBody. Zero means
	// DefaultMaxReplicationBody.
	MaxBody int64
	// Replica is the ID of the peer replica at URL. A session with a
	// client that knows it ends by collecting the peer's acknowledgements
	// of the tombstones the local replica waits to reap
	// ([ReplicationClient.Acknowledge]), and an answer naming another
	// replica is refused: the client vouches for whom it reaches, so that
	// a peer cannot acknowledge as another member. Zero means none are
	// collected, and a replica with a membership then never reaps.
	Replica version.ID
}

func (c *ReplicationClient) maxBody() int64 {
	if c.MaxBody <= 0 {
		return DefaultMaxReplicationBody
	}
	return c.MaxBody
}

// do posts one operation and returns the answer's content.
func (c *ReplicationClient) do(ctx context.Context, content []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(content))
	if err != nil {
		return nil, err
	}
	for k, vs := range c.Header {
		req.Header[k] = append(req.Header[k], vs...)
	}
	req.Header.Set("Content-Type", ReplicationMediaType)
	hc := c.Client
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBody()+1))
	if err != nil {
		return nil, fmt.Errorf("httpapi: replication peer %s: %w", c.URL, err)
	}
	if resp.StatusCode != http.StatusOK {
		typ, detail := problemText(resp.Header.Get("Content-Type"), body)
		return nil, &PeerError{URL: c.URL, Status: resp.StatusCode, Type: typ, Detail: detail}
	}
	if int64(len(body)) > c.maxBody() {
		return nil, fmt.Errorf("httpapi: replication peer %s: %w: answer over %d bytes", c.URL, ErrMalformedBody, c.maxBody())
	}
	return body, nil
}

// problemText is the type and the title and detail of a problem, or no
// type and the start of other content.
func problemText(contentType string, body []byte) (typ, text string) {
	if mt, _, _ := mime.ParseMediaType(contentType); mt == ProblemMediaType {
		var p struct{ Type, Title, Detail string }
		if json.Unmarshal(body, &p) == nil {
			return p.Type, p.Title + ": " + p.Detail
		}
	}
	return "", string(body[:min(len(body), 200)])
}

// Reconcile implements [replica.Peer].
func (c *ReplicationClient) Reconcile(ctx context.Context, msg []byte) ([]byte, error) {
	return c.do(ctx, append([]byte{opReconcile}, msg...))
}

// Push implements [replica.Peer]. It sends the states in requests of at
// most MaxBody bytes; a state too large for one is refused here.
func (c *ReplicationClient) Push(ctx context.Context, states []replica.Delta) ([]replica.KeyError, error) {
	var refused []replica.KeyError
	content := []byte{opPush}
	flush := func() error {
		if len(content) == 1 {
			return nil
		}
		answer, err := c.do(ctx, content)
		if err != nil {
			return err
		}
		errs, err := decodeRefusals(answer)
		refused = append(refused, errs...)
		content = content[:1]
		return err
	}
	for _, s := range states {
		next := appendBytes(appendBytes(nil, []byte(s.Key)), s.Data)
		if int64(1+len(next)) > c.maxBody() {
			refused = append(refused, replica.KeyError{Key: s.Key, Err: fmt.Errorf("%w: state of %d bytes over the limit %d", ErrBodyTooLarge, len(s.Data), c.maxBody())})
			continue
		}
		if int64(len(content)+len(next)) > c.maxBody() {
			if err := flush(); err != nil {
				return refused, err
			}
		}
		content = append(content, next...)
	}
	return refused, flush()
}

func decodeRefusals(answer []byte) ([]replica.KeyError, error) {
	d := decoder{b: answer}
	n, err := d.uvarint("refusals")
	if err != nil {
		return nil, err
	}
	var out []replica.KeyError
	for range n {
		k, err := d.bytes("key")
		if err != nil {
			return out, err
		}
		why, err := d.bytes("reason")
		if err != nil {
			return out, err
		}
		out = append(out, replica.KeyError{Key: string(k), Err: fmt.Errorf("%w: %s", ErrRefused, why)})
	}
	return out, nil
}

// batch returns a request of op with as many of items, each encoded by
// enc, as fit in MaxBody (at least the first), and how many it holds: the
// client asks again for the rest.
func batch[I any](c *ReplicationClient, op byte, items []I, enc func(I) []byte) ([]byte, int) {
	content := []byte{op}
	n := 0
	for _, it := range items {
		next := enc(it)
		if n > 0 && int64(len(content)+len(next)) > c.maxBody() {
			break
		}
		content = append(content, next...)
		n++
	}
	return content, n
}

// Pull implements [replica.Peer]. It asks again for the records an answer
// had no room for.
func (c *ReplicationClient) Pull(ctx context.Context, wants []replica.Want) ([]replica.Delta, error) {
	var out []replica.Delta
	for len(wants) > 0 {
		content, n := batch(c, opFetch, wants, func(w replica.Want) []byte {
			var ctxBytes []byte
			if !w.Context.IsZero() {
				ctxBytes, _ = w.Context.AppendBinary(nil)
			}
			return appendBytes(appendBytes(nil, []byte(w.Key)), ctxBytes)
		})
		answer, err := c.do(ctx, content)
		if err != nil {
			return out, err
		}
		d := decoder{b: answer}
		answered, err := d.uvarint("answered")
		if err != nil {
			return out, err
		}
		if answered == 0 || answered > uint64(n) {
			return out, fmt.Errorf("httpapi: replication peer %s: %w: it answered %d of %d keys", c.URL, ErrMalformedBody, answered, n)
		}
		states, err := decodeStates(answer[d.off:])
		if err != nil {
			return out, err
		}
		asked := map[string]bool{}
		for _, w := range wants[:answered] {
			asked[w.Key] = true
		}
		for _, s := range states {
			if !asked[s.Key] {
				return out, fmt.Errorf("httpapi: replication peer %s: %w: a state of %q, which was not asked for", c.URL, ErrMalformedBody, s.Key)
			}
		}
		out = append(out, states...)
		wants = wants[answered:]
	}
	return out, nil
}
