package httpapi

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strconv"
)

// ProblemMediaType is the media type of problem details (RFC 9457).
const ProblemMediaType = "application/problem+json"

// TypeBase is the prefix of every problem type URI this package issues: the
// package's documentation, where each Type constant says what a client
// should do about the problem.
const TypeBase = "https://pkg.go.dev/github.com/harborpoint/concord/httpapi#"

// Problem types. Each is TypeBase followed by the constant's name.
const (
	// TypeStaleToken (412): the If-Match token is not the record's current
	// one; another write came first. Refetch (the current tag is in the ETag
	// header and the "etag" member), decide again, and retry with it.
	TypeStaleToken = TypeBase + "TypeStaleToken"
	// TypePreconditionRequired (428): the write is conditional; send
	// If-Match with the ETag you read.
	TypePreconditionRequired = TypeBase + "TypePreconditionRequired"
	// TypeConflict (409): the record holds concurrent branches that no
	// policy may merge ("branches", each with its tag). Look at them, decide,
	// and write the decision with If-Match set to the "etag" member, which
	// covers every branch.
	TypeConflict = TypeBase + "TypeConflict"
	// TypeMalformedHeader (400): a header field does not parse; see "field".
	TypeMalformedHeader = TypeBase + "TypeMalformedHeader"
	// TypeMalformedToken (400): a token does not decode; use a tag the
	// service issued.
	TypeMalformedToken = TypeBase + "TypeMalformedToken"
	// TypeMalformedBody (400, 413, 415): the request content is not the
	// expected JSON, is too large, or has another media type.
	TypeMalformedBody = TypeBase + "TypeMalformedBody"
	// TypeIdempotencyKeyRequired (400): the operation is a merge-aware
	// command; send an Idempotency-Key so that a retry applies once.
	TypeIdempotencyKeyRequired = TypeBase + "TypeIdempotencyKeyRequired"
	// TypeIdempotencyKeyReused (422): the key was used before with another
	// payload; use a new key for a new request.
	TypeIdempotencyKeyReused = TypeBase + "TypeIdempotencyKeyReused"
	// TypeIdempotencyKeyInFlight (409): a request with the key is still
	// being processed; retry later to get its response.
	TypeIdempotencyKeyInFlight = TypeBase + "TypeIdempotencyKeyInFlight"
	// TypeNotBlindWritable (422): the field is not last-writer-wins, so it
	// cannot be overwritten blind; use a conditional write.
	TypeNotBlindWritable = TypeBase + "TypeNotBlindWritable"
	// TypeNotFound (404): no record under the key.
	TypeNotFound = TypeBase + "TypeNotFound"
	// TypeExists (412 with If-None-Match, 409 otherwise): a record is
	// already there.
	TypeExists = TypeBase + "TypeExists"
	// TypeClaimed (409): the write needs a claim another owner holds, such
	// as a confirmation of a hold on a cabin another hold has ("owner",
	// "claim"). Do not retry: the other owner has it.
	TypeClaimed = TypeBase + "TypeClaimed"
	// TypeClaimLost (409): the claim the write held was taken over or
	// released before the write was decided (it took too long). Start over.
	TypeClaimLost = TypeBase + "TypeClaimLost"
	// TypeTooLarge (413): the record's stored form would exceed the
	// record limit; "size" and "limit" say by how much. Send a smaller
	// value.
	TypeTooLarge = TypeBase + "TypeTooLarge"
	// TypeQuarantined (500): the record's stored state cannot be read
	// (damaged, or over this service's limits); it is kept as it is,
	// reported to the operators, and refuses reads and writes until they
	// restore it. Other records are not affected.
	TypeQuarantined = TypeBase + "TypeQuarantined"
	// TypeUnavailable (503): too much write contention, a deadline, or the
	// home store of a claim out of reach; retry after the Retry-After
	// delay. The write may have taken effect: retry it as it was.
	TypeUnavailable = TypeBase + "TypeUnavailable"
	// TypeMemberExpired (403): the replica that called a replication
	// endpoint is a member the serving replica has not heard from for
	// longer than its retention (replica.ErrExpired): "member" names it.
	// It must rejoin with an empty store and be added again.
	TypeMemberExpired = TypeBase + "TypeMemberExpired"
	// TypeInternal (500): a fault of the service; the details are in its log.
	TypeInternal = TypeBase + "TypeInternal"
)

// Problem is a problem details object (RFC 9457). Extension members sit at
// the top level of the JSON object beside the standard ones; a member of
// Extensions named like a standard member is ignored.
//
// A Problem is a plain value; write it with [Problem.Write].
type Problem struct {
	// Type is a URI reference naming the problem type; "" is "about:blank".
	Type string
	// Title is a short summary of the problem type.
	Title string
	// Status is the HTTP status code; 0 means 500.
	Status int
	// Detail explains this occurrence.
	Detail string
	// Instance is a URI reference naming this occurrence, such as the
	// request path.
	Instance string
	// Extensions are further members, such as "etag" or "branches".
	Extensions map[string]any
	// Header holds response header fields to send with the problem, such
	// as the current ETag of a 412 or the Retry-After of a 503. It is not
	// part of the JSON.
	Header http.Header
}

// Error makes a Problem usable as an error, so that a [Classifier] may
// return one and a handler may return it as is.
func (p *Problem) Error() string {
	s := "httpapi: " + strconv.Itoa(p.status()) + " " + p.Title
	if p.Detail != "" {
		s += ": " + p.Detail
	}
	return s
}

func (p *Problem) status() int {
	if p.Status == 0 {
		return http.StatusInternalServerError
	}
	return p.Status
}

// MarshalJSON implements [json.Marshaler]: the standard members, then the
// extensions in key order, in one object.
func (p Problem) MarshalJSON() ([]byte, error) {
	typ := p.Type
	if typ == "" {
		typ = "about:blank"
	}
	var b bytes.Buffer
	b.WriteByte('{')
	add := func(k string, v any) error {
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		vb, err := json.Marshal(v)
		if err != nil {
			return err
		}
		b.Write(kb)
		b.WriteByte(':')
		b.Write(vb)
		return nil
	}
	_ = add("type", typ)
	_ = add("title", p.Title)
	_ = add("status", p.status())
	if p.Detail != "" {
		_ = add("detail", p.Detail)
	}
	if p.Instance != "" {
		_ = add("instance", p.Instance)
	}
	for _, k := range slices.Sorted(maps.Keys(p.Extensions)) {
		switch k {
		case "type", "title", "status", "detail", "instance":
			continue
		}
		if err := add(k, p.Extensions[k]); err != nil {
			return nil, err
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON implements [json.Unmarshaler], for clients and tests: the
// standard members go to their fields (a member of the wrong JSON type is
// ignored, as RFC 9457 asks), every other member to Extensions, decoded as
// encoding/json decodes into an any.
func (p *Problem) UnmarshalJSON(data []byte) error {
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	*p = Problem{}
	take := func(k string) (v any, ok bool) {
		v, ok = m[k]
		delete(m, k)
		return v, ok
	}
	if v, ok := take("type"); ok {
		p.Type, _ = v.(string)
	}
	if v, ok := take("title"); ok {
		p.Title, _ = v.(string)
	}
	if v, ok := take("status"); ok {
		if f, ok := v.(float64); ok {
			p.Status = int(f)
		}
	}
	if v, ok := take("detail"); ok {
		p.Detail, _ = v.(string)
	}
	if v, ok := take("instance"); ok {
		p.Instance, _ = v.(string)
	}
	if len(m) > 0 {
		p.Extensions = m
	}
	return nil
}

// Write sends p as the response: p.Header, Content-Type
// application/problem+json, the status, and the JSON body. For a HEAD
// request the body is left out by net/http.
func (p *Problem) Write(w http.ResponseWriter) {
	body, err := json.Marshal(p)
	if err != nil {
		// An extension that does not marshal: send the standard members.
		q := *p
		q.Extensions = nil
		body, _ = json.Marshal(q)
	}
	h := w.Header()
	for k, vs := range p.Header {
		h[k] = append([]string(nil), vs...)
	}
	h.Set("Content-Type", ProblemMediaType)
	h.Set("Content-Length", strconv.Itoa(len(body)+1))
	h.Del("Content-Encoding")
	w.WriteHeader(p.status())
	_, _ = w.Write(append(body, '\n'))
}
