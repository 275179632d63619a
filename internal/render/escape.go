package render

import "unicode/utf8"

// The escaping scheme of text from stores, files and programs, so that it
// can never drive a terminal (docs/security.md, "Terminal output"):
//
//	\t \r \n             for TAB, CR and LF (where a newline is not a line break)
//	\xNN                 for the other C0 controls, DEL, and bytes that are not UTF-8
//	\u0080 ... \u009f    for C1 controls
//	\u061c \u200e \u200f \u202a-\u202e \u2066-\u2069 \u2028 \u2029
//	                     for bidi controls and line/paragraph separators
//
// Every other character, printable Unicode included, is kept as is.

// IsSafe reports whether s has nothing to escape.
func IsSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// AppendEscaped appends s escaped; quoted escapes '"' and '\' too, for a
// value between double quotes that must not end early.
func AppendEscaped(b []byte, s string, quoted bool) []byte {
	if !quoted && IsSafe(s) {
		return append(b, s...)
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case quoted && (c == '"' || c == '\\'):
				b = append(b, '\\', c)
			case c == '\t':
				b = append(b, `\t`...)
			case c == '\r':
				b = append(b, `\r`...)
			case c == '\n':
				b = append(b, `\n`...)
			case c < 0x20 || c == 0x7f:
				b = append(b, '\\', 'x', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, '\\', 'x', hex[c>>4], hex[c&0xf])
		case UnsafeRune(r):
			b = append(b, '\\', 'u', hex[r>>12&0xf], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return b
}

// AppendQuoted appends s escaped between double quotes.
func AppendQuoted(b []byte, s string) []byte {
	b = append(b, '"')
	b = AppendEscaped(b, s, true)
	return append(b, '"')
}

// UnsafeRune reports whether r, above ASCII, is a control a terminal or
// a text layout acts on: C1 controls, bidi controls, line separators.
func UnsafeRune(r rune) bool {
	switch {
	case r >= 0x80 && r <= 0x9f,
		r == 0x061c, r == 0x200e, r == 0x200f,
		r >= 0x202a && r <= 0x202e,
		r >= 0x2066 && r <= 0x2069,
		r == 0x2028, r == 0x2029:
		return true
	}
	return false
}
