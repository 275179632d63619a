package flavors_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/flavors"
	"github.com/runlog/runlog/stores"
)

// TestLoadRunsNoProgram: Load only reads the file. An external flavor's
// program runs when it is registered, and one that is missing fails only
// the stores that use it.
func TestLoadRunsNoProgram(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "ran")
	prog := filepath.Join(dir, "flavor.sh")
	script := "#!/bin/sh\ntouch '" + marker + "'\necho '{\"name\": \"marked\", \"doc\": \"d\", \"keys\": []}'\n"
	if err := os.WriteFile(prog, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "gone")
	path := filepath.Join(dir, "stores.json")
	file := `{"default": "ghost", "stores": {
		"ghost": {"flavor": "ghosted"},
		"m": {"flavor": "marked"},
		"l": {"flavor": "local", "config": {"dir": "` + filepath.Join(dir, "data") + `"}}},
		"flavors": {"ghosted": {"exec": "` + missing + `"}, "marked": {"exec": "` + prog + `"}}}`
	if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}

	f, err := stores.Load(path)
	if err != nil {
		t.Fatalf("Load of a file naming a missing program = %v; want it read", err)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("Load ran an external flavor's program")
	}
	if _, err := runlog.LookupFlavor("marked"); err == nil {
		t.Fatal("Load registered an external flavor")
	}
	if _, err := f.OpenFetcher(t.Context(), "l"); err != nil {
		t.Fatalf("OpenFetcher(l) = %v", err)
	}
	if _, err := f.Open(t.Context(), "m"); !errors.Is(err, runlog.ErrNotFound) || !strings.Contains(err.Error(), prog) || !strings.Contains(err.Error(), "RegisterExternal") {
		t.Fatalf("Open of an unregistered external flavor's store = %v; want ErrNotFound naming %s and RegisterExternal", err, prog)
	}
	if err := f.Delete("ghost"); err != nil {
		t.Fatal(err)
	}
	if err := f.Save(path); err != nil {
		t.Fatal(err)
	}

	err = flavors.RegisterExternals(t.Context(), f)
	if err == nil || !strings.Contains(err.Error(), "external flavor ghosted: invalid argument: "+missing+" describe") || !strings.Contains(err.Error(), "delete the stores that use the flavor") {
		t.Fatalf("RegisterExternals = %v; want the missing program named, with what to do", err)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Fatal("RegisterExternals did not run the working program")
	}
	if _, err := runlog.LookupFlavor("marked"); err != nil {
		t.Fatalf("the working external flavor is not registered after a failing one: %v", err)
	}
	if _, err := f.OpenFetcher(t.Context(), "m"); err != nil {
		t.Fatalf("OpenFetcher of the working external flavor's store = %v", err)
	}
	if err := flavors.RegisterExternal(t.Context(), f, "local"); err != nil {
		t.Fatalf("RegisterExternal of a built-in flavor = %v; want nothing done", err)
	}
}

// TestExternalAnswerTooLarge: an external flavor program that answers a
// fetch with far more than a page fails that fetch, and its output is not
// held whole.
func TestExternalAnswerTooLarge(t *testing.T) {
	dir := t.TempDir()
	prog := filepath.Join(dir, "big.sh")
	script := "#!/bin/sh\ncase $1 in\ndescribe) echo '{\"name\": \"big\", \"doc\": \"d\", \"keys\": []}' ;;\n" +
		"fetch) cat >/dev/null; head -c 80000000 /dev/zero | tr '\\0' ' ' ;;\nesac\n"
	if err := os.WriteFile(prog, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	f := &stores.File{Stores: map[string]stores.Entry{}}
	if _, err := flavors.RegisterProgram(t.Context(), f, prog); err != nil {
		t.Fatal(err)
	}
	fe, err := runlog.OpenFetcher(t.Context(), "big", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = fe.Fetch(t.Context(), runlog.Query{RunID: "r", Limit: 10})
	if !errors.Is(err, runlog.ErrUnavailable) || !strings.Contains(err.Error(), "not a page") {
		t.Fatalf("Fetch of an 80 MB answer = %v; want ErrUnavailable", err)
	}
}

// FuzzExternalAnswers: whatever a program answers to describe or fetch,
// parsing never panics, a described flavor can be registered without
// runlog.Register panicking, and an accepted page holds at most the limit
// of entries, all of the run asked for.
func FuzzExternalAnswers(f *testing.F) {
	f.Add([]byte(`{"name": "ok", "doc": "d", "keys": [{"name": "url", "type": "url"}]}`))
	f.Add([]byte(`{"name": "Bad Name", "keys": []}`))
	f.Add([]byte(`{"name": "dup", "keys": [{"name": "a"}, {"name": "a"}]}`))
	f.Add([]byte(`{"entries": [{"run_id": "r", "message": "m", "chunk_index": 0, "total_chunks": 1}], "next": "c", "more": true}`))
	f.Add([]byte(`{"entries": [{"run_id": "other"}]}`))
	f.Add([]byte(`{"error": {"kind": "invalid", "message": "\u001b]0;pwned\u0007"}}`))
	f.Add([]byte(`{"entries": [{"run_id": "r", "chunk_index": 5, "total_chunks": 2}]}`))
	n := 0
	f.Fuzz(func(t *testing.T, b []byte) {
		if d, err := flavors.ParseDescribe(b); err == nil {
			n++
			fl := runlog.Flavor{Name: d.Name + "_fz" + strconv.Itoa(n), Keys: d.Keys,
				Open: func(context.Context, runlog.Config) (runlog.LogStore, error) { return nil, errors.New("no") }}
			if len(fl.Name) <= 64 {
				runlog.Register(fl) // must not panic
			}
			for _, k := range d.Keys {
				if strings.ContainsAny(k.Name, "\x1b\r\n ") {
					t.Fatalf("key name %q accepted", k.Name)
				}
			}
		}
		p, err := flavors.ParsePage(b, "r", 3)
		if err != nil {
			return
		}
		if len(p.Entries) > 3 {
			t.Fatalf("%d entries for a limit of 3", len(p.Entries))
		}
		for _, e := range p.Entries {
			if e.RunID != "r" || e.TotalChunks < 1 || e.ChunkIndex >= e.TotalChunks {
				t.Fatalf("accepted entry %+v", e)
			}
		}
	})
}

// TestExternalProgramFails: a fetch program that prints a page and then
// exits non-zero gives an error, not that (maybe partial) page.
func TestExternalProgramFails(t *testing.T) {
	dir := t.TempDir()
	prog := filepath.Join(dir, "fails.sh")
	script := "#!/bin/sh\ncase $1 in\ndescribe) echo '{\"name\": \"fails\", \"doc\": \"d\", \"keys\": []}' ;;\n" +
		"fetch) cat >/dev/null; echo '{\"entries\": []}'; echo 'backend on fire' >&2; exit 3 ;;\nesac\n"
	if err := os.WriteFile(prog, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	f := &stores.File{Stores: map[string]stores.Entry{}}
	if _, err := flavors.RegisterProgram(t.Context(), f, prog); err != nil {
		t.Fatal(err)
	}
	fe, err := runlog.OpenFetcher(t.Context(), "fails", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = fe.Fetch(t.Context(), runlog.Query{RunID: "r"})
	if !errors.Is(err, runlog.ErrUnavailable) || !strings.Contains(err.Error(), "exit status 3") || !strings.Contains(err.Error(), "backend on fire") {
		t.Fatalf("Fetch from a program that failed = %v; want ErrUnavailable with its status and stderr", err)
	}
}
