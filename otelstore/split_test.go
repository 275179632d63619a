package otelstore

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzSplitUTF8(f *testing.F) {
	f.Add("héllo wörld 日本語 🎉", 3)
	f.Add(strings.Repeat("€", 100), 2)
	f.Add("ascii only", 1)
	f.Fuzz(func(t *testing.T, s string, n int) {
		if n < 4 || !utf8.ValidString(s) {
			n = max(n, 4) // a chunk must fit any rune
			s = strings.ToValidUTF8(s, "\uFFFD")
		}
		parts := splitUTF8(s, n)
		if got := strings.Join(parts, ""); got != s {
			t.Fatalf("chunks join to %q; want %q", got, s)
		}
		for i, p := range parts {
			if len(p) > n || !utf8.ValidString(p) {
				t.Fatalf("chunk %d %q: %d bytes (max %d), valid=%v", i, p, len(p), n, utf8.ValidString(p))
			}
			if p == "" && len(parts) > 1 {
				t.Fatalf("empty chunk %d", i)
			}
		}
	})
}
