package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// Errors of request content, wrapped in a [*BodyError].
var (
	// ErrMalformedBody: the content is not one JSON value of the expected
	// shape (400).
	ErrMalformedBody = errors.New("httpapi: malformed request content")
	// ErrBodyTooLarge: the content is longer than the limit (413).
	ErrBodyTooLarge = errors.New("httpapi: request content too large")
	// ErrUnsupportedMediaType: the content is not JSON (415).
	ErrUnsupportedMediaType = errors.New("httpapi: unsupported media type")
)

// DefaultMaxBody is the default limit on request content, 1 MiB.
const DefaultMaxBody = 1 << 20

// BodyError reports request content that cannot be used.
type BodyError struct {
	Err    error // ErrMalformedBody, ErrBodyTooLarge or ErrUnsupportedMediaType
	Detail string
}

// Error implements the error interface.
func (e *BodyError) Error() string {
	if e.Detail == "" {
		return e.Err.Error()
	}
	return e.Err.Error() + ": " + e.Detail
}

// Unwrap returns the sentinel.
func (e *BodyError) Unwrap() error { return e.Err }

func (e *BodyError) status() int {
	switch {
	case errors.Is(e.Err, ErrBodyTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(e.Err, ErrUnsupportedMediaType):
		return http.StatusUnsupportedMediaType
	}
	return http.StatusBadRequest
}

// DecodeOptions configures [DecodeJSON]. The zero DecodeOptions is valid.
type DecodeOptions struct {
	// MaxBytes bounds the content; 0 means DefaultMaxBody.
	MaxBytes int64
	// AllowEmpty accepts empty content as the zero T.
	AllowEmpty bool
	// AllowUnknownFields accepts object members T has no field for.
	AllowUnknownFields bool
}

// DecodeJSON decodes the content of r as one JSON value of type T. The
// Content-Type, if present, must be application/json or a +json type; the
// content must fit in the limit and hold exactly one value; by default
// unknown object members are refused. Failures are [*BodyError] values.
func DecodeJSON[T any](r *http.Request, opts DecodeOptions) (T, error) {
	var v T
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" && !strings.HasSuffix(mt, "+json") {
			return v, &BodyError{Err: ErrUnsupportedMediaType, Detail: fmt.Sprintf("Content-Type %q, want application/json", ct)}
		}
	}
	limit := opts.MaxBytes
	if limit <= 0 {
		limit = DefaultMaxBody
	}
	if r.Body == nil {
		r.Body = http.NoBody
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return v, &BodyError{Err: ErrMalformedBody, Detail: "reading: " + err.Error()}
	}
	if int64(len(data)) > limit {
		return v, &BodyError{Err: ErrBodyTooLarge, Detail: fmt.Sprintf("more than %d bytes", limit)}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		if opts.AllowEmpty {
			return v, nil
		}
		return v, &BodyError{Err: ErrMalformedBody, Detail: "empty content, want a JSON object"}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if !opts.AllowUnknownFields {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(&v); err != nil {
		return v, &BodyError{Err: ErrMalformedBody, Detail: err.Error()}
	}
	if _, err := dec.Token(); err != io.EOF {
		return v, &BodyError{Err: ErrMalformedBody, Detail: "content after the JSON value"}
	}
	return v, nil
}
