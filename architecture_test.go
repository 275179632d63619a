package runlog_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The import rules of docs/architecture.md ("Import rules"), checked
// against `go list`. Each rule names the packages it applies to (a path
// relative to the module; "x/..." is x and everything under it) and what
// they may not depend on, directly or through other packages of the
// module.
const module = "github.com/runlog/runlog"

type layerRule struct {
	pkgs   []string // the packages the rule is about
	except []string // packages among them it is not about
	// stdOnly: every dependency is in the standard library, but for the
	// module packages listed in allow.
	stdOnly bool
	allow   []string
	// deny: module packages they may not depend on.
	deny []string
	// direct: the rule is about their own imports only, not those of the
	// packages they import.
	direct bool
	why    string
}

var layerRules = []layerRule{
	{pkgs: []string{"."}, stdOnly: true, why: "the contract depends on the standard library alone"},
	{pkgs: []string{"router"}, stdOnly: true, allow: []string{"."}, why: "routing is standard library and contract only, for every store"},
	{pkgs: []string{"storetest"}, stdOnly: true, allow: []string{"."}, why: "the conformance suite is for any store, like testing/slogtest"},
	{pkgs: []string{"query/..."}, deny: []string{"otelstore/...", "router/...", "capture/...", "flavors/...", "stores/..."},
		why: "the read path knows nothing of the write path"},
	{pkgs: []string{"otelstore/...", "router/...", "capture/..."}, deny: []string{"query/...", "flavors/...", "stores/..."},
		why: "the write path knows nothing of the read path"},
	{pkgs: []string{"otelstore/..."}, deny: []string{"capture/..."}, why: "capture uses the router; otelstore does not import it"},
	{pkgs: []string{"stores/..."}, deny: []string{"otelstore/...", "query/...", "flavors/..."},
		why: "stores is a file format; flavors open the stores it names"},
	{pkgs: []string{"serve/..."}, deny: []string{"otelstore/...", "router/...", "capture/...", "query/...", "flavors/...", "stores/..."},
		why: "serve works over any fetcher, through the contract"},
	{pkgs: []string{"..."}, except: []string{"cmd/..."}, deny: []string{"cmd/..."}, why: "no library package imports the CLI"},
	{pkgs: []string{"examples/..."}, deny: []string{"internal/...", "query/internal/..."}, direct: true, why: "examples use the public API only"},
}

type listed struct {
	ImportPath string
	Imports    []string
	Deps       []string
	Standard   bool
	Error      *struct{ Err string }
}

// goList returns the module's packages, with GOOS set as given ("" for the
// host's), test files left out.
func goList(t *testing.T, goos string) []listed {
	t.Helper()
	cmd := exec.Command("go", "list", "-e", "-json=ImportPath,Imports,Deps,Standard,Error", "./...")
	cmd.Env = os.Environ()
	if goos != "" {
		cmd.Env = append(cmd.Env, "GOOS="+goos)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.Bytes())
	}
	var pkgs []listed
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p listed
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// rel returns path relative to the module ("." for the module itself), or
// "" for a package outside it.
func rel(path string) string {
	switch {
	case path == module:
		return "."
	case strings.HasPrefix(path, module+"/"):
		return strings.TrimPrefix(path, module+"/")
	}
	return ""
}

// matches reports whether the module-relative package p is one of pats.
func matches(p string, pats []string) bool {
	for _, pat := range pats {
		switch {
		case pat == "...":
			return true
		case strings.HasSuffix(pat, "/..."):
			dir := strings.TrimSuffix(pat, "/...")
			if p == dir || strings.HasPrefix(p, dir+"/") {
				return true
			}
		case p == pat:
			return true
		}
	}
	return false
}

// checkLayers returns one error per dependency that breaks a rule.
// standard reports whether an import path is in the standard library.
func checkLayers(pkgs []listed, standard func(string) bool, rules []layerRule) error {
	var errs []error
	for _, p := range pkgs {
		me := rel(p.ImportPath)
		if me == "" {
			continue
		}
		for _, r := range rules {
			if !matches(me, r.pkgs) || matches(me, r.except) {
				continue
			}
			deps := p.Deps
			if r.direct {
				deps = p.Imports
			}
			for _, d := range deps {
				dr := rel(d)
				switch {
				case r.stdOnly && dr == "" && !standard(d):
					errs = append(errs, fmt.Errorf("%s depends on %s: %s", me, d, r.why))
				case r.stdOnly && dr != "" && !slices.Contains(r.allow, dr):
					errs = append(errs, fmt.Errorf("%s depends on %s: %s", me, dr, r.why))
				case dr != "" && matches(dr, r.deny):
					errs = append(errs, fmt.Errorf("%s depends on %s: %s", me, dr, r.why))
				}
			}
		}
	}
	return errors.Join(errs...)
}

// TestArchitecture fails when an import breaks the layering of
// docs/architecture.md, on this system and on Windows (whose build also
// must not fail: platform-specific parts sit behind build tags).
func TestArchitecture(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list and a Windows build")
	}
	for _, goos := range []string{"", "windows"} {
		pkgs := goList(t, goos)
		std := map[string]bool{}
		for _, p := range goListStd(t, pkgs, goos) {
			std[p] = true
		}
		for _, p := range pkgs {
			if p.Error != nil {
				t.Errorf("GOOS=%s: %s: %s", goos, p.ImportPath, p.Error.Err)
			}
		}
		if err := checkLayers(pkgs, func(s string) bool { return std[s] }, layerRules); err != nil {
			t.Errorf("GOOS=%s: imports break the layering (docs/architecture.md, Import rules):\n%v", goos, err)
		}
	}
	build := exec.Command("go", "build", "./...")
	build.Env = append(os.Environ(), "GOOS=windows")
	if out, err := build.CombinedOutput(); err != nil {
		t.Errorf("GOOS=windows go build ./...: %v\n%s", err, out)
	}
}

// goListStd returns which of the dependencies of pkgs are standard
// library packages.
func goListStd(t *testing.T, pkgs []listed, goos string) []string {
	t.Helper()
	seen := map[string]bool{}
	var deps []string
	for _, p := range pkgs {
		for _, d := range p.Deps {
			if rel(d) == "" && !seen[d] {
				seen[d] = true
				deps = append(deps, d)
			}
		}
	}
	cmd := exec.Command("go", append([]string{"list", "-e", "-f", "{{if .Standard}}{{.ImportPath}}{{end}}"}, deps...)...)
	cmd.Env = os.Environ()
	if goos != "" {
		cmd.Env = append(cmd.Env, "GOOS="+goos)
	}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list of the dependencies: %v", err)
	}
	return strings.Fields(string(out))
}

// TestCheckLayersCatches: the checker itself reports each kind of broken
// rule, so that TestArchitecture cannot pass by checking nothing.
func TestCheckLayersCatches(t *testing.T) {
	std := func(s string) bool { return !strings.Contains(s, ".") }
	for _, tc := range []struct {
		pkg, dep, want string
	}{
		{module, "go.opentelemetry.io/otel", "the contract depends on the standard library alone"},
		{module, module + "/resource", "the contract depends on the standard library alone"},
		{module + "/router", module + "/resource", "routing is standard library and contract only"},
		{module + "/query/victorialogs", module + "/otelstore", "the read path knows nothing of the write path"},
		{module + "/query/file", module + "/router", "the read path knows nothing of the write path"},
		{module + "/otelstore", module + "/query/file", "the write path knows nothing of the read path"},
		{module + "/otelstore", module + "/capture", "otelstore does not import it"},
		{module + "/flavors", module + "/cmd/runlog", "no library package imports the CLI"},
		{module + "/examples/custom-store", module + "/internal/layout", "examples use the public API only"},
		{module + "/serve", module + "/query/file", "serve works over any fetcher"},
	} {
		pkgs := []listed{{ImportPath: tc.pkg, Imports: []string{"context", tc.dep}, Deps: []string{"context", tc.dep}}}
		err := checkLayers(pkgs, std, layerRules)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s importing %s: checkLayers = %v; want an error saying %q", tc.pkg, tc.dep, err, tc.want)
		}
	}
	ok := []listed{
		{ImportPath: module, Deps: []string{"context", "log/slog"}},
		{ImportPath: module + "/router", Deps: []string{"log/slog", module}},
		{ImportPath: module + "/cmd/runlog", Deps: []string{module + "/otelstore", module + "/query/file", module + "/cmd/runlog/internal"}},
		{ImportPath: module + "/flavors", Deps: []string{module + "/otelstore", module + "/query/file"}},
		{ImportPath: module + "/examples/pipeline", Imports: []string{module + "/flavors"}, Deps: []string{module + "/flavors", module + "/internal/layout"}},
	}
	if err := checkLayers(ok, std, layerRules); err != nil {
		t.Errorf("checkLayers of an allowed graph = %v", err)
	}
}
