package capture

import (
	"strings"
	"testing"
	"time"
)

func TestLineSplitter(t *testing.T) {
	s := lineSplitter{max: 8}
	var got []piece
	for _, w := range []string{"ab", "c\r\nde", "f\n", "0123456789abcdefghij", "k\n", "tail"} {
		got = s.write([]byte(w), time.Time{}, got)
	}
	got = s.end(time.Time{}, got)
	want := []piece{{text: "abc"}, {text: "def"}, {text: "01234567", more: true}, {text: "89abcdef", more: true}, {text: "ghijk"}, {text: "tail"}}
	if len(got) != len(want) {
		t.Fatalf("pieces %+v; want %+v", got, want)
	}
	for i := range want {
		if got[i].text != want[i].text || got[i].more != want[i].more {
			t.Errorf("piece %d: %+v; want %+v", i, got[i], want[i])
		}
	}
	if len(s.buf) != 0 {
		t.Errorf("holds %q after end", s.buf)
	}
}

// A piece never splits a rune, and never holds more than max bytes.
func TestLineSplitterUTF8(t *testing.T) {
	s := lineSplitter{max: 7}
	line := strings.Repeat("né€", 50) // 1, 2 and 3 bytes
	out := s.write([]byte(line+"\n"), time.Time{}, nil)
	var whole strings.Builder
	for i, p := range out {
		if len(p.text) > 7 {
			t.Fatalf("piece %d: %q", i, p.text)
		}
		if strings.ToValidUTF8(p.text, "") != p.text {
			t.Fatalf("piece %d splits a rune: %q", i, p.text)
		}
		if p.more != (i < len(out)-1) {
			t.Fatalf("piece %d of %d: more=%v", i, len(out), p.more)
		}
		whole.WriteString(p.text)
	}
	if whole.String() != line {
		t.Fatalf("pieces join to %q", whole.String())
	}
}
