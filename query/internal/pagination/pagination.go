// Package pagination holds what every query adapter's cursor needs: the
// sort key of an entry and the encoding of a cursor as opaque text.
package pagination

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/runlog/runlog"
)

// Key is an entry's position in Fetch order.
type Key struct {
	T     int64  `json:"t"`
	Seq   uint64 `json:"s,omitempty"`
	ID    string `json:"i,omitempty"`
	Chunk int    `json:"c,omitempty"`
}

// KeyOf returns the key of e.
func KeyOf(e *runlog.LogEntry) *Key {
	return &Key{T: e.Time.UnixNano(), Seq: e.Sequence, ID: e.ID, Chunk: e.ChunkIndex}
}

// Compare returns -1, 0 or +1 as e sorts before, at or after k.
func (k *Key) Compare(e *runlog.LogEntry) int {
	return cmp.Or(
		cmp.Compare(e.Time.UnixNano(), k.T),
		cmp.Compare(e.Sequence, k.Seq),
		strings.Compare(e.ID, k.ID),
		cmp.Compare(e.ChunkIndex, k.Chunk))
}

// Encode renders a cursor value as URL-safe text.
func Encode(v any) runlog.Cursor {
	b, _ := json.Marshal(v)
	return runlog.Cursor(base64.RawURLEncoding.EncodeToString(b))
}

// Decode reads a cursor made by Encode into v; the empty cursor leaves v
// as it is. Its error wraps runlog.ErrInvalid.
func Decode(c runlog.Cursor, v any) error {
	if c == "" {
		return nil
	}
	b, err := base64.RawURLEncoding.DecodeString(string(c))
	if err == nil {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		return Invalid(c)
	}
	return nil
}

// Invalid is the error for a cursor the store did not make.
func Invalid(c runlog.Cursor) error {
	return runlog.Invalidf("query: cursor %.40q is not one this store made; pass Page.Next unchanged", c)
}
