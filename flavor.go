package runlog

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// KeyType is the type of a flavor's configuration value.
type KeyType string

// Key types. Values are always given as text and checked against the type.
const (
	TypeString   KeyType = "string"
	TypeInt      KeyType = "int"
	TypeBool     KeyType = "bool"
	TypeDuration KeyType = "duration" // Go syntax: 500ms, 10s, 1h
	TypeURL      KeyType = "url"      // absolute http(s) URL
)

// ConfigKey documents one configuration key of a flavor.
type ConfigKey struct {
	Name     string // snake_case; "-" is accepted for "_" on input
	Type     KeyType
	Default  string // applied when the key is absent
	Required bool
	// Secret values are masked wherever configuration is shown, and may be
	// given as ${ENV_VAR} references resolved when the store is opened.
	Secret bool
	// Choices, when not empty, are the only values the key accepts.
	Choices []string
	Doc     string
}

// Flavor is a kind of log store, registered under a name the way
// database/sql drivers are: the package that implements it calls Register
// in an init function, and users open stores by flavor name and
// configuration.
//
// A flavor offers its store whole, to write and read (Open), and may offer
// its reader alone (OpenFetcher), for programs that only read: a reader
// opens no spool, starts no exporter and reads none of the write side's
// settings, so a write side that is misconfigured, or cannot be set up on
// the reading machine, does not stop anyone from reading.
type Flavor struct {
	// Name is what users open the flavor by: lower-case snake_case, unique
	// in the process.
	Name string
	// Doc says in a sentence or two what the flavor stores to and reads
	// from. It is shown by `runlog log-store flavor list`.
	Doc string
	// Keys are the configuration keys the flavor accepts; no others are.
	Keys []ConfigKey

	// Open makes a store from a validated configuration (every key known,
	// typed, defaults applied, ${ENV} references resolved). It is
	// required. It may assume nothing about the process's default logger,
	// which the store replaces only at its first Activate. A store that
	// holds records it could not deliver yet should implement [Flusher].
	Open func(ctx context.Context, cfg Config) (LogStore, error)

	// OpenFetcher, if not nil, makes the read side alone from the same
	// validated configuration as Open. It must not set up anything that
	// only writing needs: no spool or other directory is created, no
	// exporter or connection is made, and keys and variables that only
	// the write side reads ($RUNLOG_LEVEL, spool and export keys) are not
	// parsed, so that their errors do not stop a reader. What it returns
	// must fetch exactly what the store that Open returns fetches. A nil
	// OpenFetcher means [OpenFetcher] opens the whole store with Open and
	// reads through it.
	OpenFetcher func(ctx context.Context, cfg Config) (Fetcher, error)
}

// Config is a flavor's validated configuration.
type Config map[string]string

// String returns the value of key k.
func (c Config) String(k string) string { return c[k] }

// Int returns the value of an int key, 0 if absent. Validation guarantees
// it parses.
func (c Config) Int(k string) int { n, _ := strconv.Atoi(c[k]); return n }

// Bool returns the value of a bool key.
func (c Config) Bool(k string) bool { b, _ := strconv.ParseBool(c[k]); return b }

// Duration returns the value of a duration key.
func (c Config) Duration(k string) time.Duration { d, _ := time.ParseDuration(c[k]); return d }

var (
	flavorsMu sync.RWMutex
	flavors   = map[string]Flavor{}
)

var flavorName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// Register makes a flavor available by name. It panics if the name is taken
// or the flavor is malformed, like sql.Register.
func Register(f Flavor) {
	if !flavorName.MatchString(f.Name) {
		panic(fmt.Sprintf("runlog: flavor name %q must be lower-case snake_case", f.Name))
	}
	if f.Open == nil {
		panic("runlog: flavor " + f.Name + " has no Open function")
	}
	flavorsMu.Lock()
	defer flavorsMu.Unlock()
	if _, dup := flavors[f.Name]; dup {
		panic("runlog: Register called twice for flavor " + f.Name)
	}
	flavors[f.Name] = f
}

// Flavors returns the registered flavors sorted by name.
func Flavors() []Flavor {
	flavorsMu.RLock()
	defer flavorsMu.RUnlock()
	out := make([]Flavor, 0, len(flavors))
	for _, f := range flavors {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// LookupFlavor returns the flavor registered under name. Its error wraps
// ErrNotFound and lists the registered flavors.
func LookupFlavor(name string) (Flavor, error) {
	flavorsMu.RLock()
	f, ok := flavors[name]
	flavorsMu.RUnlock()
	if !ok {
		var names []string
		for _, f := range Flavors() {
			names = append(names, f.Name)
		}
		return Flavor{}, &Error{Kind: ErrNotFound, Op: "flavor", Err: fmt.Errorf("no flavor %q", name),
			Hint: "registered flavors: " + strings.Join(names, ", ") + "; is the package that registers it imported?"}
	}
	return f, nil
}

// Open opens a store of the named flavor with the given configuration.
func Open(ctx context.Context, flavor string, cfg map[string]string) (LogStore, error) {
	f, c, err := lookupConfig(flavor, cfg)
	if err != nil {
		return nil, err
	}
	return f.Open(ctx, c)
}

// OpenFetcher opens the read side of a store of the named flavor: what
// reading programs (runlog logs, check, serve) use. It calls the flavor's
// OpenFetcher, or, for a flavor without one, opens the whole store with
// its Open and returns that.
func OpenFetcher(ctx context.Context, flavor string, cfg map[string]string) (Fetcher, error) {
	f, c, err := lookupConfig(flavor, cfg)
	if err != nil {
		return nil, err
	}
	if f.OpenFetcher == nil {
		return f.Open(ctx, c)
	}
	return f.OpenFetcher(ctx, c)
}

// lookupConfig returns the named flavor and cfg validated and resolved
// for it.
func lookupConfig(flavor string, cfg map[string]string) (Flavor, Config, error) {
	f, err := LookupFlavor(flavor)
	if err != nil {
		return Flavor{}, nil, err
	}
	c, err := f.Validate(cfg)
	if err != nil {
		return Flavor{}, nil, err
	}
	if c, err = f.resolve(c); err != nil {
		return Flavor{}, nil, err
	}
	return f, c, nil
}

// Key returns the configuration key named name ("-" read as "_").
func (f Flavor) Key(name string) (ConfigKey, bool) {
	name = strings.ReplaceAll(name, "-", "_")
	i := slices.IndexFunc(f.Keys, func(k ConfigKey) bool { return k.Name == name })
	if i < 0 {
		return ConfigKey{}, false
	}
	return f.Keys[i], true
}

// Validate checks raw against f's keys: every key known, every value of its
// type, every required key present. It returns the configuration with keys
// normalized to snake_case and defaults applied; ${ENV} references are left
// as they are. Its error wraps ErrInvalid and lists the valid choices.
func (f Flavor) Validate(raw map[string]string) (Config, error) {
	c := Config{}
	var valid []string
	for _, k := range f.Keys {
		valid = append(valid, k.Name)
	}
	names := make([]string, 0, len(raw))
	for k := range raw {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		k, ok := f.Key(name)
		if !ok {
			return nil, invalidf("flavor %s has no config key %q; valid keys: %s", f.Name, name, strings.Join(valid, ", "))
		}
		v := raw[name]
		if err := k.check(v); err != nil {
			return nil, invalidf("flavor %s: %w", f.Name, err)
		}
		c[k.Name] = v
	}
	for _, k := range f.Keys {
		if _, ok := c[k.Name]; ok {
			continue
		}
		if k.Required {
			return nil, invalidf("flavor %s needs config key %q (%s)", f.Name, k.Name, k.Doc)
		}
		if k.Default != "" {
			c[k.Name] = k.Default
		}
	}
	return c, nil
}

var envRef = regexp.MustCompile(`^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$`)

// resolve replaces ${ENV} references of secret keys with the variables'
// values, and checks the resolved values' types.
func (f Flavor) resolve(c Config) (Config, error) {
	out := Config{}
	for name, v := range c {
		k, _ := f.Key(name)
		if m := envRef.FindStringSubmatch(v); m != nil && k.Secret {
			val, ok := os.LookupEnv(m[1])
			if !ok {
				return nil, invalidf("flavor %s: config key %q refers to environment variable %s, which is not set", f.Name, name, m[1])
			}
			v = val
		}
		out[name] = v
	}
	return out, nil
}

func (k ConfigKey) check(v string) error {
	if k.Secret && envRef.MatchString(v) {
		return nil
	}
	var err error
	switch k.Type {
	case TypeInt:
		_, err = strconv.Atoi(v)
	case TypeBool:
		_, err = strconv.ParseBool(v)
	case TypeDuration:
		_, err = time.ParseDuration(v)
	case TypeURL:
		if !strings.HasPrefix(v, "http://") && !strings.HasPrefix(v, "https://") {
			err = fmt.Errorf("not an http:// or https:// URL")
		}
	}
	if err == nil && len(k.Choices) > 0 && !slices.Contains(k.Choices, v) {
		return fmt.Errorf("config key %q wants one of %s, got %q", k.Name, strings.Join(k.Choices, ", "), v)
	}
	if err != nil {
		shown := RedactURL(v)
		if k.Secret {
			shown = "****"
		}
		return fmt.Errorf("config key %q wants a %s, got %q", k.Name, k.Type, shown)
	}
	return nil
}

// RedactURL returns s with the userinfo of the URL it holds ("user:password@"
// after the scheme) replaced by "****@": credentials given in a URL are a
// secret, and never reach output, error messages or file names. Text that
// holds no userinfo is returned unchanged.
func RedactURL(s string) string {
	i := strings.Index(s, "://")
	if i < 0 {
		return s
	}
	auth := s[i+3:]
	if j := strings.IndexAny(auth, "/?#"); j >= 0 {
		auth = auth[:j]
	}
	at := strings.LastIndexByte(auth, '@')
	if at < 0 {
		return s
	}
	return s[:i+3] + "****" + s[i+3+at:]
}
