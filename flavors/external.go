package flavors

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/internal/httpconf"
	"github.com/runlog/runlog/otelstore"
	"github.com/runlog/runlog/stores"
)

// External flavors (stores.External) are programs speaking the protocol
// described at stores.External. Writes go over OTLP/HTTP like the otel
// flavor's; the program only reads.

// the keys every external flavor gets for its write side.
var externalExportKeys = []runlog.ConfigKey{
	{Name: "endpoint", Type: runlog.TypeURL, Doc: "base URL of the OTLP/HTTP receiver the records are written to (default $OTEL_EXPORTER_OTLP_ENDPOINT)"},
	{Name: "headers", Type: runlog.TypeString, Secret: true, Doc: "export headers, k=v,k2=v2"},
}

type describeOut struct {
	Name string             `json:"name"`
	Doc  string             `json:"doc"`
	Keys []runlog.ConfigKey `json:"keys"`
}

// RegisterProgram runs `path describe`, registers the flavor it describes
// with runlog, and records it in f so that RegisterExternals registers it
// again after a later Load.
func RegisterProgram(ctx context.Context, f *stores.File, path string) (runlog.Flavor, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return runlog.Flavor{}, err
	}
	fl, err := describe(ctx, abs)
	if err != nil {
		return runlog.Flavor{}, &runlog.Error{Kind: runlog.ErrInvalid, Op: "flavor register", Err: err,
			Hint: "an external flavor is a program answering `describe` and `fetch` (see docs/cli.md)"}
	}
	ext, recorded := f.Flavors[fl.Name]
	_, err = runlog.LookupFlavor(fl.Name)
	registered := err == nil
	if recorded && ext.Exec != abs || registered && !recorded {
		return runlog.Flavor{}, runlog.Invalidf("a flavor named %q exists already; the program must describe another name", fl.Name)
	}
	if !registered {
		runlog.Register(fl)
	}
	if f.Flavors == nil {
		f.Flavors = map[string]stores.External{}
	}
	f.Flavors[fl.Name] = stores.External{Exec: abs}
	return fl, nil
}

// RegisterExternals registers with runlog every external flavor recorded
// in f that is not registered yet, running each program's `describe`. A
// program that fails does not stop the others: they are registered, and
// the error joins one error per failed flavor, each naming the program and
// what to do. Only stores of a failed flavor are then unusable.
func RegisterExternals(ctx context.Context, f *stores.File) error {
	names := make([]string, 0, len(f.Flavors))
	for name := range f.Flavors {
		names = append(names, name)
	}
	sort.Strings(names)
	var errs []error
	for _, name := range names {
		errs = append(errs, RegisterExternal(ctx, f, name))
	}
	return errors.Join(errs...)
}

// RegisterExternal registers with runlog the external flavor named flavor,
// running its program's `describe`, if f records one of that name and it
// is not registered yet; otherwise it does nothing. Commands that open a
// store call it with the store's flavor, so that a broken external flavor
// breaks only the stores that use it.
func RegisterExternal(ctx context.Context, f *stores.File, flavor string) error {
	ext, ok := f.Flavors[flavor]
	if !ok {
		return nil
	}
	if _, err := runlog.LookupFlavor(flavor); err == nil {
		return nil
	}
	fl, err := describe(ctx, ext.Exec)
	if err != nil {
		return &runlog.Error{Kind: runlog.ErrInvalid, Op: "external flavor", Store: flavor, Err: err,
			Hint: "fix or reinstall the program, then run `runlog log-store flavor register " + ext.Exec + "`, or delete the stores that use the flavor"}
	}
	if fl.Name != flavor {
		return runlog.Invalidf("external flavor %s: %s now describes itself as %q; register it again with `runlog log-store flavor register %s`",
			flavor, ext.Exec, fl.Name, ext.Exec)
	}
	runlog.Register(fl)
	return nil
}

func describe(ctx context.Context, path string) (runlog.Flavor, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, path, "describe")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if msg := bytes.TrimSpace(stderr.Bytes()); len(msg) > 0 {
			err = fmt.Errorf("%w: %.300s", err, msg)
		}
		return runlog.Flavor{}, fmt.Errorf("%s describe: %w", path, err)
	}
	d, err := parseDescribe(out)
	if err != nil {
		return runlog.Flavor{}, fmt.Errorf("%s describe: %w", path, err)
	}
	keys := append([]runlog.ConfigKey(nil), d.Keys...)
	for _, k := range externalExportKeys {
		if _, ok := (runlog.Flavor{Keys: keys}).Key(k.Name); !ok {
			keys = append(keys, k)
		}
	}
	return runlog.Flavor{
		Name: d.Name,
		Doc:  d.Doc + " (external: " + path + ")",
		Keys: keys,
		Open: func(ctx context.Context, c runlog.Config) (runlog.LogStore, error) { return openExternal(ctx, path, c) },
		OpenFetcher: func(_ context.Context, c runlog.Config) (runlog.Fetcher, error) {
			return execFetcher{path: path, cfg: c}, nil
		},
	}, nil
}

func openExternal(_ context.Context, path string, c runlog.Config) (runlog.LogStore, error) {
	var opts []otlploghttp.Option
	if ep := c.String("endpoint"); ep != "" {
		u, err := url.Parse(ep)
		if err != nil || u.Host == "" {
			return nil, runlog.Invalidf("endpoint %q is not a URL such as http://127.0.0.1:4318", runlog.RedactURL(ep))
		}
		if u.User != nil {
			return nil, runlog.Invalidf("endpoint %s carries credentials; pass them in headers instead", runlog.RedactURL(ep))
		}
		opts = append(opts, otlploghttp.WithEndpointURL(u.JoinPath("v1/logs").String()))
	}
	return otelstore.New(otelstore.Options{
		Name: filepath.Base(path),
		Exporter: func(ctx context.Context, _ *runlog.Activation) (sdklog.Exporter, error) {
			return otlploghttp.New(ctx, opts...)
		},
		Fetcher: execFetcher{path: path, cfg: c},
	})
}

// execFetcher runs `PROGRAM fetch` for each Fetch.
type execFetcher struct {
	path string
	cfg  runlog.Config
}

type wireQuery struct {
	RunID     string       `json:"run_id"`
	StepID    string       `json:"step_id,omitempty"`
	Source    string       `json:"source,omitempty"`
	LogsURI   string       `json:"logs_uri,omitempty"`
	Start     *time.Time   `json:"start,omitempty"`
	End       *time.Time   `json:"end,omitempty"`
	Limit     int          `json:"limit"`
	MinLevel  runlog.Level `json:"min_level,omitempty"`
	Contains  string       `json:"contains,omitempty"`
	Cursor    string       `json:"cursor,omitempty"`
	Direction string       `json:"direction"`
}

type wirePage struct {
	Entries []runlog.LogEntry `json:"entries"`
	Next    string            `json:"next"`
	More    bool              `json:"more"`
	Error   *struct {
		Kind    string `json:"kind"`
		Message string `json:"message"`
	} `json:"error"`
}

func (e execFetcher) Fetch(ctx context.Context, q runlog.Query) (runlog.Page, error) {
	if err := q.Validate(); err != nil {
		return runlog.Page{}, err
	}
	wq := wireQuery{RunID: q.RunID, StepID: q.StepID, Source: q.Source, LogsURI: q.LogsURI, Limit: q.EffectiveLimit(),
		MinLevel: q.MinLevel, Contains: q.Contains, Cursor: string(q.Cursor), Direction: q.Direction.String()}
	if !q.Start.IsZero() {
		wq.Start = &q.Start
	}
	if !q.End.IsZero() {
		wq.End = &q.End
	}
	in, _ := json.Marshal(map[string]any{"config": e.cfg, "query": wq})
	// A page of at most limit entries of at most a chunk each: an answer
	// far larger is not one, and is not held in memory whole.
	stdout := &capped{max: min(max(int64(q.EffectiveLimit())*256<<10, 64<<20), 512<<20)}
	stderr := &capped{max: 4 << 10}
	cmd := exec.CommandContext(ctx, e.path, "fetch")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(in), stdout, stderr
	runErr := cmd.Run()
	if stdout.over {
		return runlog.Page{}, &runlog.Error{Kind: runlog.ErrUnavailable, Op: "fetch", Store: e.path,
			Err: fmt.Errorf("answered more than %d MiB for %d entries; not a page", stdout.max>>20, q.EffectiveLimit())}
	}
	page, err := parsePage(stdout.Bytes(), q.RunID, q.EffectiveLimit())
	var re *runlog.Error
	switch {
	case errors.As(err, &re): // the program reported a typed error
		re.Store = e.path
		return runlog.Page{}, re
	case ctx.Err() != nil:
		return runlog.Page{}, &runlog.Error{Kind: runlog.ErrUnavailable, Op: "fetch", Store: e.path, Err: ctx.Err()}
	case runErr != nil:
		// A program that failed gives no page, whatever it printed first.
		return runlog.Page{}, &runlog.Error{Kind: runlog.ErrUnavailable, Op: "fetch", Store: e.path,
			Err: fmt.Errorf("%w; stderr: %s", runErr, httpconf.Clean(stderr.String(), 300))}
	case err != nil:
		return runlog.Page{}, &runlog.Error{Kind: runlog.ErrUnavailable, Op: "fetch", Store: e.path,
			Err: fmt.Errorf("%w; stderr: %s", err, httpconf.Clean(stderr.String(), 300))}
	}
	return page, nil
}

var externalName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// parseDescribe reads a program's answer to `describe`: a flavor that
// runlog.Register accepts (its name lower-case snake_case, its keys named
// and typed as runlog's are), never one that would make it panic. Docs
// are kept as written: whoever shows them escapes them (the CLI does).
func parseDescribe(out []byte) (describeOut, error) {
	var d describeOut
	if err := json.Unmarshal(out, &d); err != nil {
		return d, fmt.Errorf("want JSON {\"name\", \"doc\", \"keys\"}, got %s", httpconf.Clean(string(out), 200))
	}
	if !externalName.MatchString(d.Name) {
		return d, fmt.Errorf("flavor name %q: want lower-case snake_case, at most 64 bytes", httpconf.Clean(d.Name, 80))
	}
	seen := map[string]bool{}
	for i, k := range d.Keys {
		switch {
		case !externalName.MatchString(k.Name):
			return d, fmt.Errorf("key %q: want a lower-case snake_case name", httpconf.Clean(k.Name, 80))
		case seen[k.Name]:
			return d, fmt.Errorf("key %q is described twice", k.Name)
		}
		switch k.Type {
		case runlog.TypeString, runlog.TypeInt, runlog.TypeBool, runlog.TypeDuration, runlog.TypeURL:
		case "":
			d.Keys[i].Type = runlog.TypeString
		default:
			return d, fmt.Errorf("key %q has type %q; want string, int, bool, duration or url", k.Name, httpconf.Clean(string(k.Type), 40))
		}
		seen[k.Name] = true
	}
	return d, nil
}

// parsePage reads a program's answer to `fetch` of run with limit: a page
// of at most limit entries of that run, or the typed error the program
// reports. An error it returns that is not a *runlog.Error says why the
// answer is not a page.
func parsePage(out []byte, run string, limit int) (runlog.Page, error) {
	var p wirePage
	if err := json.Unmarshal(out, &p); err != nil {
		return runlog.Page{}, fmt.Errorf("answer is not a page: %v", err)
	}
	if p.Error != nil {
		kinds := map[string]error{"invalid": runlog.ErrInvalid, "unauthorized": runlog.ErrUnauthorized, "over_limit": runlog.ErrOverLimit, "not_found": runlog.ErrNotFound}
		kind, ok := kinds[p.Error.Kind]
		if !ok {
			kind = runlog.ErrUnavailable
		}
		return runlog.Page{}, &runlog.Error{Kind: kind, Op: "fetch", Err: errors.New(p.Error.Message)}
	}
	if len(p.Entries) > limit {
		return runlog.Page{}, fmt.Errorf("answered %d entries for a limit of %d", len(p.Entries), limit)
	}
	for i := range p.Entries {
		e := &p.Entries[i]
		if e.RunID != run {
			return runlog.Page{}, fmt.Errorf("answered an entry of run %q for run %q", httpconf.Clean(e.RunID, 80), httpconf.Clean(run, 80))
		}
		if e.TotalChunks <= 0 {
			e.TotalChunks = 1
		}
		if e.ChunkIndex < 0 || e.ChunkIndex >= e.TotalChunks {
			return runlog.Page{}, fmt.Errorf("answered an entry with chunk %d of %d", e.ChunkIndex, e.TotalChunks)
		}
	}
	return runlog.Page{Entries: p.Entries, Next: runlog.Cursor(p.Next), More: p.More}, nil
}

// capped keeps what is written to it up to max bytes and notes whether
// more came; the rest is discarded, so that a program's output cannot
// grow memory without bound.
type capped struct {
	bytes.Buffer
	max  int64
	over bool
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.max - int64(c.Len()); int64(len(p)) > room {
		c.over = true
		if room > 0 {
			c.Buffer.Write(p[:room])
		}
		return len(p), nil
	}
	return c.Buffer.Write(p)
}
