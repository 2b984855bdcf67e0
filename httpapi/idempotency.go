package httpapi

import (
	"bytes"
	"container/list"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/harborpoint/concord/replica"
)

// Errors of the Idempotency-Key protocol. A request without a key fails with
// a [*HeaderError] wrapping replica.ErrIdempotencyKeyRequired (400).
var (
	// ErrIdempotencyKeyReused: the key was first used with another payload
	// (422).
	ErrIdempotencyKeyReused = errors.New("httpapi: Idempotency-Key already used with another payload")
	// ErrIdempotencyKeyInFlight: the first request with the key has not
	// finished (409).
	ErrIdempotencyKeyInFlight = errors.New("httpapi: a request with this Idempotency-Key is still in progress")
	// ErrIdempotencyStoreFull: every slot of the store holds a request still
	// in progress (503).
	ErrIdempotencyStoreFull = errors.New("httpapi: too many requests in progress")
)

// MaxIdempotencyKeyLen bounds the length of an Idempotency-Key.
const MaxIdempotencyKeyLen = 255

// ReplayedHeader is the response header field set to "true" on a response
// replayed from the [Idempotency] store. It is informative only; the draft
// does not define it.
const ReplayedHeader = "Idempotent-Replayed"

// IdempotencyKey returns the Idempotency-Key of r. The draft defines the
// field as a structured-field string ("..." with \" and \\ escapes); a bare
// key of visible ASCII without quotes, commas or backslashes is accepted too,
// as many clients send one. The key must be 1 to [MaxIdempotencyKeyLen]
// bytes. An absent field fails with a [*HeaderError] wrapping
// replica.ErrIdempotencyKeyRequired; a malformed one, or several, with
// [ErrMalformedHeader].
func IdempotencyKey(r *http.Request) (string, error) {
	const field = "Idempotency-Key"
	vs := r.Header.Values(field)
	switch len(vs) {
	case 0:
		return "", headerError(field, "", replica.ErrIdempotencyKeyRequired, "this operation is a command that must apply once: send an Idempotency-Key")
	case 1:
	default:
		return "", headerError(field, strings.Join(vs, ", "), ErrMalformedHeader, "more than one key")
	}
	raw := strings.Trim(vs[0], " \t")
	key, err := parseKey(raw)
	if err != nil {
		return "", headerError(field, raw, ErrMalformedHeader, err.Error())
	}
	if key == "" {
		return "", headerError(field, raw, replica.ErrIdempotencyKeyRequired, "the key is empty")
	}
	if len(key) > MaxIdempotencyKeyLen {
		return "", headerError(field, raw, ErrMalformedHeader, fmt.Sprintf("longer than %d bytes", MaxIdempotencyKeyLen))
	}
	return key, nil
}

func parseKey(s string) (string, error) {
	if !strings.HasPrefix(s, `"`) {
		for i := 0; i < len(s); i++ {
			if c := s[i]; c <= 0x20 || c >= 0x7f || c == '"' || c == ',' || c == '\\' {
				return "", fmt.Errorf("byte %q not allowed in a bare key; quote the key", c)
			}
		}
		return s, nil
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			if i+1 >= len(s) || s[i+1] != '"' && s[i+1] != '\\' {
				return "", errors.New(`a backslash must escape " or \`)
			}
			i++
			b.WriteByte(s[i])
		case c == '"':
			if i != len(s)-1 {
				return "", errors.New("text after the closing quote")
			}
			return b.String(), nil
		case c < 0x20 || c >= 0x7f:
			return "", fmt.Errorf("byte %q not allowed in a string", c)
		default:
			b.WriteByte(c)
		}
		if b.Len() > MaxIdempotencyKeyLen {
			return "", fmt.Errorf("longer than %d bytes", MaxIdempotencyKeyLen)
		}
	}
	return "", errors.New("no closing quote")
}

// IdempotencyOptions configures an [Idempotency] store. The zero value means
// the defaults.
type IdempotencyOptions struct {
	// MaxKeys bounds the keys remembered; 0 means 10,000. When full, the
	// oldest finished entry is forgotten first.
	MaxKeys int
	// TTL is how long a key is remembered; 0 means 24 hours.
	TTL time.Duration
	// MaxResponseBytes bounds a remembered response body; 0 means 64 KiB.
	// A larger response is sent but not remembered, and the key is freed.
	MaxResponseBytes int
	// MaxBodyBytes bounds the request content read to fingerprint it; 0
	// means DefaultMaxBody. Larger content is refused with 413.
	MaxBodyBytes int64
	// Scope returns the namespace of a request's key, such as the
	// authenticated client, so that two clients cannot collide. Nil means
	// one namespace for every request.
	Scope func(*http.Request) string
	// Target returns what a request acts on, hashed with its content into
	// the fingerprint that a replay must match. Nil means the method, path
	// and query. A service that routes one operation to several places by a
	// query parameter (a region, say) can leave it out, so that a client may
	// retry elsewhere with the same key.
	Target func(*http.Request) string
	// Now reads the clock for the TTL. Nil means time.Now.
	Now func() time.Time
}

// Idempotency remembers, per Idempotency-Key, the fingerprint of the first
// request (a SHA-256 of its method, path and query, or its
// IdempotencyOptions.Target, and its content) and its
// response, and wraps the handlers of merge-aware commands
// ([Idempotency.Require]).
//
// # Limits
//
// The store is in memory and bounded (IdempotencyOptions): a key is
// forgotten after the TTL, when the store is full, or when the process
// restarts, and it is not shared between processes. A replay after that runs
// the handler again, so a command must also be idempotent where it is
// stored: replica.Replica.Command records the key with the record, which
// replicates, so the command still applies once; only the exact first
// response, and the 422 for a changed payload, are lost. Responses with a 5xx
// status, and responses larger than MaxResponseBytes, are not remembered, so
// that the client can retry them.
//
// An Idempotency is safe for concurrent use. Make one with [NewIdempotency].
type Idempotency struct {
	opts IdempotencyOptions

	mu    sync.Mutex
	m     map[string]*idemEntry
	order list.List // of *idemEntry, oldest first
}

type idemEntry struct {
	key    string
	fp     [sha256.Size]byte
	at     time.Time
	done   bool
	status int
	header http.Header
	body   []byte
	elem   *list.Element
}

// NewIdempotency returns an empty store.
func NewIdempotency(opts IdempotencyOptions) *Idempotency {
	if opts.MaxKeys <= 0 {
		opts.MaxKeys = 10_000
	}
	if opts.TTL <= 0 {
		opts.TTL = 24 * time.Hour
	}
	if opts.MaxResponseBytes <= 0 {
		opts.MaxResponseBytes = 64 << 10
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBody
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Idempotency{opts: opts, m: map[string]*idemEntry{}}
}

// Len returns the number of keys remembered, finished or in progress.
func (s *Idempotency) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

// Require wraps the handler of a merge-aware command. A request without an
// Idempotency-Key gets 400; the first request with a key runs next and its
// response is remembered; a later request with the same key and the same
// payload gets that response again (with [ReplayedHeader]); one with another
// payload gets 422; one that arrives while the first is running gets 409.
// next reads the request content as usual (it is buffered for the
// fingerprint) and can read the key with [IdempotencyKey].
func (s *Idempotency) Require(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, err := IdempotencyKey(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		body, err := s.readBody(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if s.opts.Scope != nil {
			key = s.opts.Scope(r) + "\x00" + key
		}
		fp := s.fingerprint(r, body)

		e, err := s.begin(key, fp)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if e.done {
			h := w.Header()
			for k, vs := range e.header {
				h[k] = append([]string(nil), vs...)
			}
			h.Set(ReplayedHeader, "true")
			w.WriteHeader(e.status)
			_, _ = w.Write(e.body)
			return
		}
		rec := &recorder{ResponseWriter: w, max: s.opts.MaxResponseBytes}
		finished := false
		defer func() {
			s.finish(e, rec, finished)
		}()
		next.ServeHTTP(rec, r)
		finished = true
	})
}

func (s *Idempotency) readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, s.opts.MaxBodyBytes+1))
	if err != nil {
		return nil, &BodyError{Err: ErrMalformedBody, Detail: "reading: " + err.Error()}
	}
	if int64(len(data)) > s.opts.MaxBodyBytes {
		return nil, &BodyError{Err: ErrBodyTooLarge, Detail: fmt.Sprintf("more than %d bytes", s.opts.MaxBodyBytes)}
	}
	r.Body = io.NopCloser(bytes.NewReader(data))
	return data, nil
}

func (s *Idempotency) fingerprint(r *http.Request, body []byte) [sha256.Size]byte {
	parts := []string{r.Method, r.URL.Path, r.URL.RawQuery}
	if s.opts.Target != nil {
		parts = []string{s.opts.Target(r)}
	}
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s", len(p), p)
	}
	h.Write(body)
	var out [sha256.Size]byte
	h.Sum(out[:0])
	return out
}

// begin returns the entry of key: a finished one to replay, or a new one in
// progress that the caller must finish.
func (s *Idempotency) begin(key string, fp [sha256.Size]byte) (*idemEntry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	s.expire(now)
	if e, ok := s.m[key]; ok {
		switch {
		case e.fp != fp:
			return nil, ErrIdempotencyKeyReused
		case !e.done:
			return nil, ErrIdempotencyKeyInFlight
		}
		return e, nil
	}
	if len(s.m) >= s.opts.MaxKeys && !s.evictOne() {
		return nil, ErrIdempotencyStoreFull
	}
	e := &idemEntry{key: key, fp: fp, at: now}
	e.elem = s.order.PushBack(e)
	s.m[key] = e
	return e, nil
}

// expire forgets finished entries older than the TTL. Entries are in
// creation order, so it stops at the first young one.
func (s *Idempotency) expire(now time.Time) {
	for el := s.order.Front(); el != nil; {
		e := el.Value.(*idemEntry)
		if now.Sub(e.at) < s.opts.TTL {
			return
		}
		next := el.Next()
		if e.done {
			s.remove(e)
		}
		el = next
	}
}

// evictOne forgets the oldest finished entry.
func (s *Idempotency) evictOne() bool {
	for el := s.order.Front(); el != nil; el = el.Next() {
		if e := el.Value.(*idemEntry); e.done {
			s.remove(e)
			return true
		}
	}
	return false
}

func (s *Idempotency) remove(e *idemEntry) {
	s.order.Remove(e.elem)
	if s.m[e.key] == e {
		delete(s.m, e.key)
	}
}

// finish remembers the response of e's first request, or frees the key if
// the response is not to be remembered.
func (s *Idempotency) finish(e *idemEntry, rec *recorder, finished bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	status := rec.status
	if status == 0 {
		status = http.StatusOK
	}
	if !finished || rec.over || status >= 500 || status == http.StatusConflict {
		s.remove(e)
		return
	}
	e.done, e.status, e.body = true, status, rec.buf.Bytes()
	e.header = rec.header
	if e.header == nil {
		e.header = rec.Header().Clone()
	}
}

func (s *Idempotency) fail(w http.ResponseWriter, r *http.Request, err error) {
	p := Responder{}.Problem(r, err)
	if errors.Is(err, ErrIdempotencyStoreFull) {
		p = &Problem{Type: TypeUnavailable, Title: "Service unavailable, retry", Status: http.StatusServiceUnavailable,
			Detail: err.Error(), Instance: r.URL.Path, Header: http.Header{"Retry-After": {"1"}}}
	}
	p.Write(w)
}

// recorder passes a response through and keeps a copy of it.
type recorder struct {
	http.ResponseWriter
	max    int
	status int
	header http.Header // snapshot at WriteHeader
	buf    bytes.Buffer
	over   bool
}

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
		r.header = r.ResponseWriter.Header().Clone()
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.WriteHeader(http.StatusOK)
	}
	if !r.over {
		if r.buf.Len()+len(p) > r.max {
			r.over = true
			r.buf = bytes.Buffer{}
		} else {
			r.buf.Write(p)
		}
	}
	return r.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
