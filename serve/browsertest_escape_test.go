package serve

// EscapeText is the escaping of the text download (and of `runlog
// logs`), for TestBrowser to hold the viewer's escape() to it.
func EscapeText(s string) string { return string(appendEscaped(nil, s, false)) }
