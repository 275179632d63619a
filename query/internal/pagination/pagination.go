// Package pagination holds what the query adapters share to page through
// entries in Fetch order:
//
//   - Key, an entry's sort key (timestamp, sequence, id, chunk), which
//     cursors carry as the position of the last entry returned, with
//     Key.After to tell what a page that ended there did not return;
//   - Encode, Decode and Invalid: a cursor value as opaque URL-safe text,
//     and the error for text that is not one;
//   - Merge (merge.go): a page gathered from entries read in any order,
//     batch by batch: sorted by Key, deduplicated at batch boundaries,
//     filtered past the cursor and cut at the limit: how query/victorialogs
//     and query/loki make a page of what they read.
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

// After reports whether e comes after k reading in direction dir: a page
// that ended at k did not return it. Every entry comes after a nil k (no
// page yet).
func (k *Key) After(e *runlog.LogEntry, dir runlog.Direction) bool {
	if k == nil {
		return true
	}
	c := k.Compare(e)
	if dir == runlog.Backward {
		return c < 0
	}
	return c > 0
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
