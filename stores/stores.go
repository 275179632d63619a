// Package stores keeps named log store configurations: which flavor, with
// which settings, and which store is the default. It is what
// `runlog log-store register|list|describe|update|delete|set-default`
// edit, and what a program uses to open "the store the user configured":
//
//	f, err := stores.Load("")               // the user's file, or empty
//	store, err := f.Open(ctx, "")            // the default store; the local one if none
//	fetcher, err := f.OpenFetcher(ctx, "ci") // store ci's reader alone, to read only
//
// The file is JSON, in the user's config directory (runlog/stores.json;
// $RUNLOG_CONFIG overrides), written with mode 0600 by an atomic rename.
// Values of secret keys may be ${ENV_VAR} references, resolved only when a
// store is opened; Masked hides the others wherever configuration is shown.
//
// Load only reads and parses the file: it runs no program and changes no
// registry, and the package imports neither the write nor the read path.
// The file also records external flavors, programs that speak the JSON
// protocol described at External; registering them with runlog runs them,
// and is explicit, in package flavors: flavors.RegisterExternal for the
// flavor of the store about to be opened, flavors.RegisterExternals for
// all (to list them). A program that is missing or broken then fails only
// the stores that use it.
// Built-in flavors are registered by importing
// github.com/runlog/runlog/flavors.
package stores

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/runlog/runlog"
)

// File is the content of the stores file.
type File struct {
	// Default names the store used when none is named.
	Default string `json:"default,omitempty"`
	// Stores maps a store's name to its flavor and configuration.
	Stores map[string]Entry `json:"stores"`
	// Flavors are external flavors by name (see External).
	Flavors map[string]External `json:"flavors,omitempty"`

	path string      // where Load read it from
	info fs.FileInfo // what Load found there; nil for a missing file
}

// Entry is one named store.
type Entry struct {
	Flavor string            `json:"flavor"`
	Config map[string]string `json:"config,omitempty"`
}

// DefaultPath returns $RUNLOG_CONFIG, else runlog/stores.json under the
// user's config directory.
func DefaultPath() (string, error) {
	if p := os.Getenv("RUNLOG_CONFIG"); p != "" {
		return p, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("runlog: no config directory (%w); set RUNLOG_CONFIG to a file path", err)
	}
	return filepath.Join(dir, "runlog", "stores.json"), nil
}

// MaxFileSize is the largest stores file Load reads: a stores file is a
// few kilobytes, and a path such as /dev/zero must fail, not fill memory.
const MaxFileSize = 1 << 20

// Load reads the stores file at path ("" for DefaultPath). A missing file
// is an empty one. Load only reads and parses: it runs no program and
// registers no flavor (see RegisterExternals). It refuses what is not a
// regular file and files over MaxFileSize.
func Load(path string) (*File, error) {
	if path == "" {
		var err error
		if path, err = DefaultPath(); err != nil {
			return nil, err
		}
	}
	fh, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &File{Stores: map[string]Entry{}, path: path}, nil
	}
	if err != nil {
		return nil, &runlog.Error{Kind: runlog.ErrInvalid, Op: "load", Store: path, Err: err}
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, &runlog.Error{Kind: runlog.ErrInvalid, Op: "load", Store: path, Err: err}
	}
	if !st.Mode().IsRegular() {
		return nil, &runlog.Error{Kind: runlog.ErrInvalid, Op: "load", Store: path,
			Err:  fmt.Errorf("not a regular file (%s)", st.Mode().Type()),
			Hint: "point RUNLOG_CONFIG at a stores file, such as runlog/stores.json under your config directory"}
	}
	b, err := io.ReadAll(io.LimitReader(fh, MaxFileSize+1))
	if err != nil {
		return nil, &runlog.Error{Kind: runlog.ErrInvalid, Op: "load", Store: path, Err: err}
	}
	if len(b) > MaxFileSize {
		return nil, &runlog.Error{Kind: runlog.ErrInvalid, Op: "load", Store: path,
			Err:  fmt.Errorf("larger than %d KiB", MaxFileSize>>10),
			Hint: "a stores file is a few kilobytes; is this the right file?"}
	}
	f, err := Parse(b)
	if err != nil {
		return nil, &runlog.Error{Kind: runlog.ErrInvalid, Op: "load", Store: path, Err: err,
			Hint: "the stores file is not valid JSON; fix or remove it"}
	}
	f.path, f.info = path, st
	return f, nil
}

// Parse parses the content of a stores file. Empty maps are nil (but
// Stores, never nil), so that what Parse accepts, Marshal writes back
// the same.
func Parse(b []byte) (*File, error) {
	f := &File{}
	if err := json.Unmarshal(b, f); err != nil {
		return nil, err
	}
	if f.Stores == nil {
		f.Stores = map[string]Entry{}
	}
	for n, e := range f.Stores {
		if len(e.Config) == 0 {
			e.Config = nil
			f.Stores[n] = e
		}
	}
	if len(f.Flavors) == 0 {
		f.Flavors = nil
	}
	return f, nil
}

// Marshal returns f as Save writes it.
func (f *File) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Save writes f to path ("" for DefaultPath) with mode 0600, replacing the
// old file atomically.
func (f *File) Save(path string) error {
	if path == "" {
		var err error
		if path, err = DefaultPath(); err != nil {
			return err
		}
	}
	b, err := f.Marshal()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".stores-*.json")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// Local is the name of the embedded local store. It always names that
// store: Open(ctx, Local) opens it whatever is registered, and no
// registered store can take the name.
const Local = "local"

var storeName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// Register adds a store named name of the given flavor. The configuration
// is checked against the flavor's keys (see runlog.Flavor.Validate) and
// kept as given, normalized to snake_case keys, without defaults.
func (f *File) Register(name, flavor string, cfg map[string]string) error {
	if !storeName.MatchString(name) {
		return runlog.Invalidf("store name %q: use letters, digits, '_', '-' and '.', starting with a letter or digit", name)
	}
	if name == Local {
		return runlog.Invalidf("store name %q is the embedded local store's, which every command accepts as --store %s; choose another name", name, Local)
	}
	if _, ok := f.Stores[name]; ok {
		return runlog.Invalidf("a store named %q exists; use `update` to change it or `delete` it first", name)
	}
	fl, err := runlog.LookupFlavor(flavor)
	if err != nil {
		return err
	}
	norm, err := normalize(fl, cfg)
	if err != nil {
		return err
	}
	f.Stores[name] = Entry{Flavor: flavor, Config: norm}
	return nil
}

// Update sets (or, with an empty value, removes) configuration keys of a
// registered store, and checks the result against its flavor.
func (f *File) Update(name string, cfg map[string]string) error {
	e, err := f.get(name)
	if err != nil {
		return err
	}
	fl, err := runlog.LookupFlavor(e.Flavor)
	if err != nil {
		return err
	}
	merged := map[string]string{}
	for k, v := range e.Config {
		merged[k] = v
	}
	for k, v := range cfg {
		k = strings.ReplaceAll(k, "-", "_")
		if v == "" {
			delete(merged, k)
		} else {
			merged[k] = v
		}
	}
	norm, err := normalize(fl, merged)
	if err != nil {
		return err
	}
	f.Stores[name] = Entry{Flavor: e.Flavor, Config: norm}
	return nil
}

// Delete removes a store; if it was the default, there is no default.
// The embedded local store cannot be deleted.
func (f *File) Delete(name string) error {
	if _, ok := f.Stores[name]; !ok && name == Local {
		return runlog.Invalidf("%q is the embedded local store; it cannot be deleted (its logs are under its data directory)", name)
	}
	if _, err := f.get(name); err != nil {
		return err
	}
	delete(f.Stores, name)
	if f.Default == name {
		f.Default = ""
	}
	return nil
}

// SetDefault makes name the default store; Local makes the embedded
// local store the default again.
func (f *File) SetDefault(name string) error {
	if name == Local {
		f.Default = ""
		return nil
	}
	if _, err := f.get(name); err != nil {
		return err
	}
	f.Default = name
	return nil
}

// Names returns the registered stores' names, sorted.
func (f *File) Names() []string {
	names := make([]string, 0, len(f.Stores))
	for n := range f.Stores {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Get returns a registered store.
func (f *File) Get(name string) (Entry, error) { return f.get(name) }

func (f *File) get(name string) (Entry, error) {
	e, ok := f.Stores[name]
	if !ok {
		hint := "no stores are registered but " + Local + ", the embedded one; see `runlog log-store register --help`"
		if len(f.Stores) > 0 {
			hint = "registered stores: " + strings.Join(f.Names(), ", ") + ", and " + Local + ", the embedded one"
		}
		return Entry{}, &runlog.Error{Kind: runlog.ErrNotFound, Op: "log-store", Err: fmt.Errorf("no store named %q", name), Hint: hint}
	}
	return e, nil
}

// Open opens the store named name, to write and read; "" means the
// default store, and with no default, the embedded local store (so that a
// fresh machine needs no set-up). The store's flavor must be registered:
// the built-in ones by importing github.com/runlog/runlog/flavors, an
// external one by RegisterExternal.
func (f *File) Open(ctx context.Context, name string) (runlog.LogStore, error) {
	return f.OpenWith(ctx, name, nil)
}

// OpenWith opens the store named name as Open does, with the keys of
// extra set over its configuration for this opening only (a command's
// flags, such as `runlog exec --redact`). A key of extra that the flavor
// does not have is an error wrapping runlog.ErrInvalid.
func (f *File) OpenWith(ctx context.Context, name string, extra map[string]string) (runlog.LogStore, error) {
	e, err := f.entry(name)
	if err != nil {
		return nil, err
	}
	cfg := e.Config
	if len(extra) > 0 {
		cfg = make(map[string]string, len(e.Config)+len(extra))
		maps.Copy(cfg, e.Config)
		maps.Copy(cfg, extra)
	}
	return runlog.Open(ctx, e.Flavor, cfg)
}

// OpenFetcher opens the read side alone of the store named name, chosen
// as Open chooses it (see runlog.OpenFetcher): what programs that only
// read use, so that nothing of the write side (spool, exporter, level) is
// set up or can fail.
func (f *File) OpenFetcher(ctx context.Context, name string) (runlog.Fetcher, error) {
	e, err := f.entry(name)
	if err != nil {
		return nil, err
	}
	return runlog.OpenFetcher(ctx, e.Flavor, e.Config)
}

// entry returns the store Open opens for name, and checks that its
// flavor is registered.
func (f *File) entry(name string) (Entry, error) {
	if name == "" {
		name = f.Default
	}
	if name == "" || name == Local {
		return Entry{Flavor: "local"}, nil
	}
	e, err := f.get(name)
	if err != nil {
		return Entry{}, err
	}
	if ext, ok := f.Flavors[e.Flavor]; ok {
		if _, err := runlog.LookupFlavor(e.Flavor); err != nil {
			return Entry{}, &runlog.Error{Kind: runlog.ErrNotFound, Op: "open", Store: name,
				Err:  fmt.Errorf("external flavor %s (%s) is not registered in this process", e.Flavor, ext.Exec),
				Hint: "call flavors.RegisterExternal(ctx, f, " + strconv.Quote(e.Flavor) + ") before opening the store"}
		}
	}
	return e, nil
}

// Masked returns cfg with the values of the flavor's secret keys replaced
// by "****", except ${ENV_VAR} references, which hold no secret. When the
// flavor is not registered (an external flavor whose program fails), which
// keys are secret is unknown, and every value is masked.
func Masked(flavor string, cfg map[string]string) map[string]string {
	fl, err := runlog.LookupFlavor(flavor)
	known := err == nil
	out := make(map[string]string, len(cfg))
	for k, v := range cfg {
		if key, ok := fl.Key(k); (!known || ok && key.Secret) && !isEnvRef(v) {
			v = "****"
		}
		out[k] = v
	}
	return out
}

var envRef = regexp.MustCompile(`^\$\{[A-Za-z_][A-Za-z0-9_]*\}$`)

func isEnvRef(v string) bool { return envRef.MatchString(v) }

// normalize validates cfg against fl and returns it with snake_case keys,
// without the defaults Validate adds.
func normalize(fl runlog.Flavor, cfg map[string]string) (map[string]string, error) {
	if _, err := fl.Validate(cfg); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for k, v := range cfg {
		out[strings.ReplaceAll(k, "-", "_")] = v
	}
	return out, nil
}
