package stores_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/runlog/runlog"
	_ "github.com/runlog/runlog/flavors"
	"github.com/runlog/runlog/stores"
)

func TestRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "stores.json")
	f, err := stores.Load(path)
	if err != nil || len(f.Stores) != 0 {
		t.Fatalf("Load of a missing file = %v, %v; want an empty file", f, err)
	}
	if err := f.Register("l", "local", map[string]string{"dir": t.TempDir(), "level": "debug"}); err != nil {
		t.Fatal(err)
	}
	if err := f.SetDefault("l"); err != nil {
		t.Fatal(err)
	}
	if err := f.Save(path); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("stores file mode %v, %v; want 0600", st.Mode(), err)
	}
	g, err := stores.Load(path)
	if err != nil || g.Default != "l" || g.Stores["l"].Config["level"] != "debug" {
		t.Fatalf("reloaded %+v, %v", g, err)
	}
	if _, err := g.Open(t.Context(), ""); err != nil {
		t.Fatalf("Open(default) = %v", err)
	}
	if _, err := g.Open(t.Context(), "other"); !errors.Is(err, runlog.ErrNotFound) {
		t.Fatalf("Open(unknown) = %v; want ErrNotFound", err)
	}
}

func TestCorruptFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stores.json")
	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := stores.Load(path); !errors.Is(err, runlog.ErrInvalid) {
		t.Fatalf("Load(corrupt) = %v; want ErrInvalid", err)
	}
}

func TestMasked(t *testing.T) {
	m := stores.Masked("otel", map[string]string{"password": "hunter2", "bearer_token": "${TOKEN}", "username": "me"})
	if m["password"] != "****" || m["bearer_token"] != "${TOKEN}" || m["username"] != "me" {
		t.Fatalf("Masked = %v", m)
	}
}

func TestMaskedUnknownFlavor(t *testing.T) {
	m := stores.Masked("no_such_flavor", map[string]string{"url": "http://x", "token": "${T}"})
	if m["url"] != "****" || m["token"] != "${T}" {
		t.Fatalf("Masked(unknown flavor) = %v; want every value but references masked", m)
	}
}
