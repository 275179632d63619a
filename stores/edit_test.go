package stores_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/stores"
)

// TestMain lets the test binary act as one concurrent writer: with
// $STORES_TEST_REGISTER set, it registers that store in $RUNLOG_CONFIG
// through stores.Edit and exits.
func TestMain(m *testing.M) {
	if name := os.Getenv("STORES_TEST_REGISTER"); name != "" {
		err := stores.Edit(context.Background(), "", func(f *stores.File) error {
			return f.Register(name, "local", map[string]string{"dir": "data-" + name})
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestConcurrentEdits: 20 processes registering a store each at once
// keep all 20 stores.
func TestConcurrentEdits(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stores.json")
	const n = 20
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), "RUNLOG_CONFIG="+path, fmt.Sprintf("STORES_TEST_REGISTER=s%02d", i))
			if out, err := cmd.CombinedOutput(); err != nil {
				errs[i] = fmt.Errorf("writer %d: %v: %s", i, err, out)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	f, err := stores.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Stores) != n {
		t.Fatalf("after %d concurrent registers the file has %d stores: %v", n, len(f.Stores), f.Names())
	}
}

func TestLoadRefusesSpecialAndLargeFiles(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err == nil {
		_, err := stores.Load("/dev/zero")
		if !errors.Is(err, runlog.ErrInvalid) || !strings.Contains(err.Error(), "not a regular file") {
			t.Fatalf("Load(/dev/zero) = %v; want a refusal of a file that is not regular", err)
		}
	}
	if _, err := stores.Load(t.TempDir()); !errors.Is(err, runlog.ErrInvalid) {
		t.Fatalf("Load(a directory) = %v; want ErrInvalid", err)
	}
	big := filepath.Join(t.TempDir(), "stores.json")
	b := []byte(`{"stores": {}, "default": "` + strings.Repeat("x", stores.MaxFileSize) + `"}`)
	if err := os.WriteFile(big, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := stores.Load(big); !errors.Is(err, runlog.ErrInvalid) || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("Load(over 1 MiB) = %v; want a refusal", err)
	}
}

func TestCheckTrusted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stores.json")
	if err := os.WriteFile(path, []byte(`{"stores": {}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := stores.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.CheckTrusted(); err != nil {
		t.Fatalf("a 0600 file of mine: %v", err)
	}
	for _, mode := range []os.FileMode{0o620, 0o602, 0o666} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		f, err := stores.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		err = f.CheckTrusted()
		if !errors.Is(err, stores.ErrUntrusted) || !strings.Contains(err.Error(), "chmod 600 "+path) {
			t.Fatalf("mode %04o: CheckTrusted = %v; want ErrUntrusted naming chmod 600", mode, err)
		}
	}
	if os.Geteuid() == 0 {
		if err := os.Chmod(path, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(path, 65534, -1); err != nil {
			t.Fatal(err)
		}
		f, _ := stores.Load(path)
		if err := f.CheckTrusted(); !errors.Is(err, stores.ErrUntrusted) || !strings.Contains(err.Error(), "chown 0 ") {
			t.Fatalf("a file of another user: CheckTrusted = %v; want ErrUntrusted naming chown", err)
		}
	}
	missing, _ := stores.Load(filepath.Join(t.TempDir(), "none.json"))
	if err := missing.CheckTrusted(); err != nil {
		t.Fatalf("a missing file names no program: %v", err)
	}
}

func TestLocalIsReserved(t *testing.T) {
	f := &stores.File{Stores: map[string]stores.Entry{}}
	if err := f.Register("local", "local", nil); !errors.Is(err, runlog.ErrInvalid) {
		t.Fatalf("Register(local) = %v; want refused", err)
	}
	if err := f.Register("ci", "local", map[string]string{"dir": t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	if err := f.SetDefault("ci"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	t.Setenv("RUNLOG_DATA_DIR", dir)
	// --store local is the embedded store, not the default.
	if _, err := f.OpenFetcher(t.Context(), "local"); err != nil {
		t.Fatalf("OpenFetcher(local) with another default = %v", err)
	}
	if err := f.Delete("local"); !errors.Is(err, runlog.ErrInvalid) {
		t.Fatalf("Delete(local) = %v; want refused", err)
	}
	if err := f.SetDefault("local"); err != nil || f.Default != "" {
		t.Fatalf("SetDefault(local) = %v, default %q; want the embedded store as default", err, f.Default)
	}
}

func TestDeleteFlavor(t *testing.T) {
	f := &stores.File{Stores: map[string]stores.Entry{
		"a": {Flavor: "ext"}, "b": {Flavor: "ext"}, "c": {Flavor: "local"}},
		Flavors: map[string]stores.External{"ext": {Exec: "my-flavor"}}, Default: "a"}
	if _, err := f.DeleteFlavor("local", false); !errors.Is(err, runlog.ErrNotFound) {
		t.Fatalf("DeleteFlavor(built-in) = %v; want ErrNotFound", err)
	}
	_, err := f.DeleteFlavor("ext", false)
	if !errors.Is(err, runlog.ErrInvalid) || !strings.Contains(err.Error(), "stores use it: a, b") {
		t.Fatalf("DeleteFlavor(in use) = %v; want a refusal naming a, b", err)
	}
	if _, ok := f.Flavors["ext"]; !ok {
		t.Fatal("a refused DeleteFlavor removed the flavor")
	}
	gone, err := f.DeleteFlavor("ext", true)
	if err != nil || !reflect.DeepEqual(gone, []string{"a", "b"}) {
		t.Fatalf("DeleteFlavor(force) = %v, %v", gone, err)
	}
	if len(f.Flavors) != 0 || len(f.Stores) != 1 || f.Default != "" {
		t.Fatalf("after DeleteFlavor(force): %+v", f)
	}
}

// FuzzParse: Parse never panics, and what it accepts, Marshal writes back
// so that Parse reads the same File again.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"default":"ci","stores":{"ci":{"flavor":"victorialogs","config":{"url":"http://x"}}},"flavors":{"e":{"exec":"/bin/e"}}}`))
	f.Add([]byte(`{"stores":null,"flavors":{}}`))
	f.Add([]byte(`{"stores":{"a":{"flavor":"local","config":{}}}}`))
	f.Add([]byte(`{"Default":"x","default":"y","stores":{"a\u001b":{"flavor":"\xff"}}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := stores.Parse(b)
		if err != nil {
			return
		}
		out, err := a.Marshal()
		if err != nil {
			t.Fatalf("Marshal of an accepted file: %v", err)
		}
		c, err := stores.Parse(out)
		if err != nil {
			t.Fatalf("Parse of what Marshal wrote: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(a, c) {
			t.Fatalf("round trip changed the file:\n%#v\n%#v\n%s", a, c, out)
		}
		again, _ := c.Marshal()
		if string(again) != string(out) {
			t.Fatalf("Marshal is not stable:\n%s\n%s", out, again)
		}
	})
}

// FuzzLoad: Load of any content never panics.
func FuzzLoad(f *testing.F) {
	f.Add([]byte(`{"stores":{}}`))
	f.Add([]byte("{not json"))
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(t.TempDir(), "stores.json")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if fl, err := stores.Load(path); err == nil && fl.Stores == nil {
			t.Fatal("Load returned a File with nil Stores")
		}
	})
}
