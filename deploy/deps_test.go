package deploy_test

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// denyListFile lists the modules no go.mod or go.sum of the repository may
// name (AGPL servers such as Grafana Loki and Grafana).
const denyListFile = "denied-modules.txt"

// deniedModule is one entry of the deny list.
type deniedModule struct {
	path string // module path; it denies itself and every path below it
	why  string // the comment after it
	line int
}

// loadDenyList reads a deny list: one module path per line, then an
// optional # comment; blank and comment lines are skipped.
func loadDenyList(name string) ([]deniedModule, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var list []deniedModule
	for i, line := range strings.Split(string(b), "\n") {
		line, why, _ := strings.Cut(line, "#")
		fields := strings.Fields(line)
		switch {
		case len(fields) == 0:
			continue
		case len(fields) > 1 || strings.ContainsAny(fields[0], `"'`+"`@") || strings.HasSuffix(fields[0], "/"):
			return nil, fmt.Errorf("%s:%d: %q is not one module path", name, i+1, strings.TrimSpace(line))
		}
		list = append(list, deniedModule{path: fields[0], why: strings.TrimSpace(why), line: i + 1})
	}
	return list, nil
}

// deniedBy returns the entry of list that denies the module or package
// path p, if any. An entry matches its own path and the paths below it, on
// a path segment boundary: github.com/grafana/grafana matches
// github.com/grafana/grafana/pkg/x but not
// github.com/grafana/grafana-foundation-sdk. Case does not matter (GitHub
// paths in any case reach the same repository).
func deniedBy(p string, list []deniedModule) (deniedModule, bool) {
	p = strings.ToLower(p)
	for _, d := range list {
		dp := strings.ToLower(d.path)
		if p == dp || strings.HasPrefix(p, dp+"/") {
			return d, true
		}
	}
	return deniedModule{}, false
}

// finding is a line of a go.mod, go.sum or go.work file that names a
// denied module.
type finding struct {
	file   string // relative to the scanned root
	line   int
	module string // the path the line names
	by     deniedModule
	text   string
}

// moduleFiles are the files that name the modules of a build.
var moduleFiles = []string{"go.mod", "go.sum", "go.work", "go.work.sum"}

// scanModules walks root (skipping .git) and returns the module files it
// read and every line of them that names a module of the deny list.
func scanModules(root string, list []deniedModule) (scanned []string, found []finding, err error) {
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".git" {
				return filepath.SkipDir
			}
			return nil
		}
		if !slices.Contains(moduleFiles, d.Name()) {
			return nil
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		scanned = append(scanned, filepath.ToSlash(rel))
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
		for n := 1; sc.Scan(); n++ {
			for _, p := range namedPaths(d.Name(), sc.Text()) {
				if by, ok := deniedBy(p, list); ok {
					found = append(found, finding{file: filepath.ToSlash(rel), line: n, module: p, by: by, text: strings.TrimSpace(sc.Text())})
				}
			}
		}
		return sc.Err()
	})
	return scanned, found, err
}

// namedPaths returns the module (or package) paths a line of a module file
// may name. In go.sum and go.work.sum that is the first field; in go.mod
// and go.work it is every word outside comments (directives, versions,
// "=>" and local paths never match a deny-list entry), which covers
// require, replace (both sides), exclude, retract, tool and godebug lines,
// inside blocks or not.
func namedPaths(file, line string) []string {
	if strings.HasSuffix(file, ".sum") {
		if f := strings.Fields(line); len(f) > 0 {
			return f[:1]
		}
		return nil
	}
	if i := strings.Index(line, "//"); i >= 0 {
		line = line[:i]
	}
	var paths []string
	for _, w := range strings.Fields(line) {
		w = strings.Trim(w, "()\"`")
		w, _, _ = strings.Cut(w, "@")
		if w != "" {
			paths = append(paths, w)
		}
	}
	return paths
}

// findRepoRoot returns the nearest directory above the working directory
// that holds go.mod and .git or deploy/: the repository, not a module
// nested in it.
func findRepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			for _, marker := range []string{".git", "deploy"} {
				if _, err := os.Stat(filepath.Join(dir, marker)); err == nil {
					return dir, nil
				}
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no directory above the working directory holds go.mod and .git or deploy/")
		}
		dir = parent
	}
}

// TestNoDeniedModules: no go.mod, go.sum, go.work or go.work.sum anywhere in
// the repository (the main module, tools modules, examples, test data)
// names a module of deploy/denied-modules.txt.
func TestNoDeniedModules(t *testing.T) {
	list, err := loadDenyList(denyListFile)
	if err != nil {
		t.Fatal(err)
	}
	root, err := findRepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	scanned, found, err := scanModules(root, list)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("read %s", strings.Join(scanned, ", "))
	for _, want := range []string{"go.mod", "go.sum"} {
		if !slices.Contains(scanned, want) {
			t.Errorf("the walk of %s did not read its %s: it checks nothing", root, want)
		}
	}
	for _, f := range found {
		why := f.by.path
		if f.by.why != "" {
			why += ": " + f.by.why
		}
		t.Errorf("%s:%d names %s, denied by deploy/%s:%d (%s)\n\t%s\n"+
			"\trunlog must not depend on AGPL modules, not even in a tools module. Remove the requirement (talk to the "+
			"server over HTTP; users run it as an image or their own server), then run `go mod tidy` in that module "+
			"so its go.sum forgets it; delete the module if nothing else is left in it.",
			f.file, f.line, f.module, denyListFile, f.by.line, why, f.text)
	}
}

// TestDenyList: the deny list parses and keeps the AGPL modules this
// project replaced or must never take on.
func TestDenyList(t *testing.T) {
	list, err := loadDenyList(denyListFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"github.com/grafana/loki/v3", "github.com/grafana/grafana", "github.com/grafana/tempo",
		"github.com/grafana/mimir", "github.com/grafana/pyroscope"} {
		if _, ok := deniedBy(want, list); !ok {
			t.Errorf("%s does not deny %s", denyListFile, want)
		}
	}
	for _, bad := range []string{"a b\n", "\"github.com/x/y\"\n", "github.com/x/y@v1\n", "github.com/x/\n"} {
		name := filepath.Join(t.TempDir(), "list.txt")
		if err := os.WriteFile(name, []byte("# c\n"+bad), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := loadDenyList(name); err == nil {
			t.Errorf("deny list %q: no error", bad)
		}
	}
}

// TestDeniedBy: the matcher denies a module and the paths below it, on
// path segment boundaries, in any case, and nothing else.
func TestDeniedBy(t *testing.T) {
	list := []deniedModule{{path: "github.com/grafana/loki"}, {path: "github.com/grafana/grafana"},
		{path: "github.com/grafana/pyroscope"}, {path: "go.k6.io/k6"}}
	for p, want := range map[string]bool{
		"github.com/grafana/loki":                      true,
		"github.com/grafana/loki/v3":                   true,
		"github.com/grafana/loki/v3/pkg/logql":         true, // a package path, as tool lines name
		"github.com/grafana/loki/pkg/push":             true, // a sub-module: the whole repository is denied
		"github.com/Grafana/Loki/v3":                   true,
		"github.com/grafana/grafana":                   true,
		"github.com/grafana/grafana/pkg/apimachinery":  true,
		"go.k6.io/k6":                                  true,
		"go.k6.io/k6/js":                               true,
		"github.com/grafana/grafana-foundation-sdk":    false, // Apache-2.0
		"github.com/grafana/grafana-plugin-sdk-go":     false,
		"github.com/grafana/grafana-openapi-client-go": false,
		"github.com/grafana/loki-client-go":            false,
		"github.com/grafana/lokiexplore":               false,
		"github.com/grafana/pyroscope-go":              false, // the Apache-2.0 client
		"github.com/grafana/dskit":                     false,
		"github.com/grafana":                           false, // above an entry, not below
		"github.com/grafanalabs/loki":                  false,
		"example.com/github.com/grafana/loki":          false, // a prefix only at the start
		"go.k6.io/k6x":                                 false,
		"github.com/VictoriaMetrics/VictoriaLogs":      false,
		"": false,
	} {
		if _, got := deniedBy(p, list); got != want {
			t.Errorf("deniedBy(%q) = %v; want %v", p, got, want)
		}
	}
}

// TestScanModules: the walk reads every module file below the root, .git
// excepted, and reports each line naming a denied module with its file and
// line number, whatever the directive; comments and allowed look-alikes
// are not reported.
func TestScanModules(t *testing.T) {
	root := t.TempDir()
	write := func(name, text string) {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", `module example.com/m // not github.com/grafana/loki

go 1.26

require github.com/grafana/grafana-foundation-sdk v0.0.1

require (
	github.com/grafana/pyroscope-go v1.0.0 // indirect
	github.com/grafana/loki/v3 v3.7.8 // indirect
)

replace example.com/x => github.com/grafana/grafana v1.0.0
`)
	write("go.sum", "github.com/grafana/grafana-foundation-sdk v0.0.1 h1:x=\ngithub.com/grafana/loki/v3 v3.7.8/go.mod h1:y=\n")
	write("tools/loki/go.mod", "module example.com/tools\n\ngo 1.26\n\ntool github.com/grafana/loki/v3/cmd/loki\n")
	write("examples/x/testdata/go.work", "go 1.26\n\nuse (\n\t.\n\t\"github.com/grafana/tempo\"\n)\n")
	write(".git/modules/go.mod", "require github.com/grafana/loki v1.0.0\n")
	write("README.md", "github.com/grafana/loki\n")

	list := []deniedModule{{path: "github.com/grafana/loki", line: 1}, {path: "github.com/grafana/grafana", line: 2}, {path: "github.com/grafana/tempo", line: 3}}
	scanned, found, err := scanModules(root, list)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(scanned)
	if want := []string{"examples/x/testdata/go.work", "go.mod", "go.sum", "tools/loki/go.mod"}; !slices.Equal(scanned, want) {
		t.Errorf("read %q; want %q", scanned, want)
	}
	var got []string
	for _, f := range found {
		got = append(got, fmt.Sprintf("%s:%d %s", f.file, f.line, f.module))
	}
	slices.Sort(got)
	want := []string{
		"examples/x/testdata/go.work:5 github.com/grafana/tempo",
		"go.mod:9 github.com/grafana/loki/v3",
		"go.mod:12 github.com/grafana/grafana",
		"go.sum:2 github.com/grafana/loki/v3",
		"tools/loki/go.mod:5 github.com/grafana/loki/v3/cmd/loki",
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
