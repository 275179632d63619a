package serve

import (
	"cmp"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/runlog/runlog"
)

// cursor is what the API's opaque `after` and `before` cursors encode: a
// position between two entries, as the store's own cursor where it has
// one for the direction asked, and always as the sort key of the entry
// next to the position, so that a cursor also works in the other
// direction and with other filters (the store's cursor is only valid
// with the query that made it).
type cursor struct {
	// Dir is "f" (what follows the position) or "b" (what precedes it).
	Dir string `json:"d"`
	// Filter fingerprints the filters of the request that made Store.
	Filter string `json:"f,omitempty"`
	// Store is the store's cursor, for Dir and Filter, made with the time
	// bounds Start and End (Unix nanoseconds; 0 when unbounded).
	Store runlog.Cursor `json:"s,omitempty"`
	Start int64         `json:"a,omitempty"`
	End   int64         `json:"z,omitempty"`
	// Key is the entry next to the position: the last one returned before
	// it when Dir is "f", the first one after it when "b".
	Key *key `json:"k,omitempty"`
	// Incl puts Key itself on the far side of the position: it is
	// returned by a read from the cursor (cursors of empty pages).
	Incl bool `json:"n,omitempty"`
}

// key is an entry's sort key, as runlog.Compare orders entries.
type key struct {
	Time  int64  `json:"t"`
	Seq   uint64 `json:"s,omitempty"`
	ID    string `json:"i,omitempty"`
	Chunk int    `json:"c,omitempty"`
}

func keyOf(e *runlog.LogEntry) *key {
	return &key{Time: e.Time.UnixNano(), Seq: e.Sequence, ID: e.ID, Chunk: e.ChunkIndex}
}

// compare orders e against k as runlog.Compare does.
func (k *key) compare(e *runlog.LogEntry) int {
	return cmp.Or(
		cmp.Compare(e.Time.UnixNano(), k.Time),
		cmp.Compare(e.Sequence, k.Seq),
		strings.Compare(e.ID, k.ID),
		cmp.Compare(e.ChunkIndex, k.Chunk))
}

func (k *key) time() time.Time { return time.Unix(0, k.Time) }

const maxCursor = 4096

func (c cursor) encode() string {
	b, err := json.Marshal(c)
	if err != nil {
		panic(err) // strings and numbers only
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(param, s string) (cursor, error) {
	var c cursor
	if len(s) > maxCursor {
		return c, runlog.Invalidf("%s: the cursor is %d bytes long; cursors are at most %d", param, len(s), maxCursor)
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil || (c.Dir != "f" && c.Dir != "b") {
		return cursor{}, runlog.Invalidf("%s: %q is not a cursor of this API; pass the after or before of a page unchanged", param, truncate(s, 40))
	}
	return c, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// fingerprint identifies the filters of a request as given (a duration
// `since` as written, so that its cursors stay valid as time passes).
func fingerprint(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(strconv.Itoa(len(p))))
		h.Write([]byte{':'})
		h.Write([]byte(p))
	}
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:9])
}

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}
