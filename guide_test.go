package runlog_test

import (
	"flag"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
)

var updateGuide = flag.Bool("update-guide", false, "rewrite the code blocks of docs/custom-log-store.md from their sources")

// snippetRef marks a code block of the guide: the block that follows is
// the region "// snippet:NAME" ... "// end snippet" of FILE.
var snippetRef = regexp.MustCompile("(?m)^<!-- snippet: ([^#]+)#([a-z0-9-]+) -->\n```go\n((?s:.*?))```\n")

// TestGuideSnippets keeps every code block of docs/custom-log-store.md
// identical to the compiled, tested code it is taken from. Run
// `go test -run TestGuideSnippets -update-guide .` after changing a snippet.
func TestGuideSnippets(t *testing.T) {
	const guide = "docs/custom-log-store.md"
	doc, err := os.ReadFile(guide)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	out := snippetRef.ReplaceAllStringFunc(string(doc), func(block string) string {
		m := snippetRef.FindStringSubmatch(block)
		n++
		want, err := snippet(m[1], m[2])
		if err != nil {
			t.Error(err)
			return block
		}
		if m[3] != want && !*updateGuide {
			t.Errorf("%s: the block of %s#%s differs from the source; run go test -run TestGuideSnippets -update-guide .", guide, m[1], m[2])
		}
		return fmt.Sprintf("<!-- snippet: %s#%s -->\n```go\n%s```\n", m[1], m[2], want)
	})
	if n < 8 {
		t.Errorf("%s has %d snippet blocks; expected the guide's code to come from sources", guide, n)
	}
	if *updateGuide {
		if err := os.WriteFile(guide, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// No Go block of the guide may bypass the check.
	if strings.Count(string(doc), "```go") != n {
		t.Errorf("%s has %d go blocks but %d come from sources", guide, strings.Count(string(doc), "```go"), n)
	}
}

func snippet(file, name string) (string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	s := string(b)
	start := strings.Index(s, "// snippet:"+name+"\n")
	if start < 0 {
		return "", fmt.Errorf("%s has no snippet %q", file, name)
	}
	s = s[start+len("// snippet:"+name+"\n"):]
	end := strings.Index(s, "// end snippet")
	if end < 0 {
		return "", fmt.Errorf("%s: snippet %q has no end", file, name)
	}
	lines := strings.Split(strings.TrimRight(s[:end], "\n\t "), "\n")
	// Remove the common indentation of an excerpt from inside a function.
	indent := ""
	for strings.HasPrefix(lines[0], indent+"\t") {
		indent += "\t"
	}
	for i, l := range lines {
		lines[i] = strings.TrimPrefix(l, indent)
	}
	return strings.Join(lines, "\n") + "\n", nil
}
