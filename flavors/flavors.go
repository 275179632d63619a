// Package flavors registers runlog's built-in flavors with the runlog
// registry. Import it for its side effect:
//
//	import _ "github.com/runlog/runlog/flavors"
//
//	store, err := runlog.Open(ctx, "local", nil)          // to write and read
//	fetcher, err := runlog.OpenFetcher(ctx, "local", nil) // to read only
//
// Flavors:
//
//   - local: the embedded default. Records are written as OTLP JSON lines
//     (one zstd frame per batch) under a data directory and read back with package query/file; no
//     server needed.
//   - victorialogs: records go over OTLP/HTTP to a collector (key endpoint)
//     or, without one, straight to VictoriaLogs with its tenant and
//     credentials; they are read back from VictoriaLogs (key url) with
//     package query/victorialogs.
//   - otel: records go over OTLP/HTTP to a collector (or any OTLP
//     receiver) and are read back from a Grafana Loki the user runs (key
//     query_url) with package query/loki.
//
// Flavors built outside this repository (programs speaking the JSON
// protocol of stores.External, recorded in the stores file) are
// registered by RegisterProgram, RegisterExternal and RegisterExternals,
// explicitly: loading the stores file runs nothing.
//
// # Writer and reader
//
// Each flavor's Open returns an *otelstore.Store, the write path, with the
// flavor's query adapter as its Fetcher. Its OpenFetcher returns the query
// adapter alone (a *file.Reader, *loki.Client or *victorialogs.Client):
// no otelstore, no spool directory, no exporter, and none of the keys and
// variables only writing reads (level and $RUNLOG_LEVEL, the export and
// spool keys), so a reader opens wherever the backend can be read, even
// with a write side that is misconfigured. runlog logs and runlog check
// read that way; the otel flavor's reader needs query_url (or
// $RUNLOG_LOKI_URL), which its writer does not.
//
// The stores keep records they could not deliver in a spool; they are
// runlog.Flushers, whose Flush replays it (runlog flush).
//
// The otel and victorialogs flavors share their export keys and honour
// the standard OTEL_EXPORTER_OTLP_* variables when a key is unset. TLS
// from PEM files, on the export side and the read side alike, comes from
// internal/httpconf.
package flavors

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"

	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/internal/layout"
	"github.com/runlog/runlog/otelstore"
	"github.com/runlog/runlog/query/file"
	"github.com/runlog/runlog/resource"
)

func init() {
	runlog.Register(runlog.Flavor{
		Name: "local",
		Doc:  "Embedded store: OTLP JSON lines in a local directory, one file per step activation. No server needed.",
		Keys: []runlog.ConfigKey{
			{Name: "dir", Type: runlog.TypeString, Doc: "data directory; default $RUNLOG_DATA_DIR, else runlog under the user's data directory"},
			{Name: "level", Type: runlog.TypeString, Doc: "lowest level stored: trace, debug, info, warn, error; default $RUNLOG_LEVEL, else info"},
			{Name: "sync", Type: runlog.TypeBool, Default: "false", Doc: "fsync after every batch written"},
			{Name: "overflow", Type: runlog.TypeString, Default: "block", Doc: "when the queue is full: block (logging waits, nothing lost) or drop (dropped and counted)"},
			{Name: "logs_uri_dirs", Type: runlog.TypeString, Doc: "directories a query's logs_uri may read besides the data directory, separated like PATH; default none"},
			conventionKey,
			redactKeys[0], redactKeys[1], redactKeys[2],
		},
		Open: func(ctx context.Context, c runlog.Config) (runlog.LogStore, error) {
			opts := otelstore.Options{Overflow: otelstore.Overflow(c.String("overflow"))}
			if l := c.String("level"); l != "" {
				lv, err := runlog.ParseLevel(l)
				if err != nil {
					return nil, err
				}
				opts.MinLevel = lv
			}
			red, err := redaction("local", redactKeys, c)
			if err != nil {
				return nil, err
			}
			opts.Redact = red
			read, err := localReadOptions(c)
			if err != nil {
				return nil, err
			}
			return newLocal(c.String("dir"), c.Bool("sync"), opts, read...)
		},
		OpenFetcher: func(_ context.Context, c runlog.Config) (runlog.Fetcher, error) {
			dir, err := localDir(c.String("dir"))
			if err != nil {
				return nil, err
			}
			read, err := localReadOptions(c)
			if err != nil {
				return nil, err
			}
			return file.New(dir, read...), nil
		},
	})
}

// conventionKey selects the attribute convention a flavor's reader maps
// and matches records by (resource.ConventionNamed). It is a read-side
// key: runlog itself always writes the cicd names.
var conventionKey = runlog.ConfigKey{Name: "convention", Type: runlog.TypeString, Default: "cicd", Choices: resource.ConventionNames(),
	Doc: "attribute names that say a record's run, step and source, for reading: cicd (OpenTelemetry CI/CD semantic conventions, what runlog writes, in the resource or on the record) or zenml (ZenML's OTel log store: zenml.* record attributes)"}

// convention returns the convention c's convention key names.
func convention(c runlog.Config) (resource.Convention, error) {
	return resource.ConventionNamed(c.String("convention"))
}

// localReadOptions are the read side's options from the local flavor's
// keys.
func localReadOptions(c runlog.Config) ([]file.Option, error) {
	conv, err := convention(c)
	if err != nil {
		return nil, err
	}
	return []file.Option{file.WithLogsURIDirs(filepath.SplitList(c.String("logs_uri_dirs"))...), file.WithConvention(conv)}, nil
}

// localDir returns dir, or the default data directory when dir is empty.
func localDir(dir string) (string, error) {
	if dir != "" {
		return dir, nil
	}
	d, err := layout.DefaultRoot()
	if err != nil {
		return "", &runlog.Error{Kind: runlog.ErrInvalid, Op: "open", Store: "local", Err: err,
			Hint: "set RUNLOG_DATA_DIR or the dir config key"}
	}
	return d, nil
}

// NewLocal returns the embedded local store under dir, or under the
// default data directory when dir is empty. opts.Exporter, opts.Fetcher
// and opts.Name are set by NewLocal; the spool defaults to dir/spool; the
// other options apply as given.
func NewLocal(dir string, syncEach bool, opts otelstore.Options) (*otelstore.Store, error) {
	return newLocal(dir, syncEach, opts)
}

func newLocal(dir string, syncEach bool, opts otelstore.Options, read ...file.Option) (*otelstore.Store, error) {
	dir, err := localDir(dir)
	if err != nil {
		return nil, err
	}
	opts.Name = "local " + strconv.Quote(dir)
	if opts.SpoolDir == "" {
		opts.SpoolDir = filepath.Join(dir, "spool")
	}
	opts.Exporter = func(_ context.Context, a *runlog.Activation) (sdklog.Exporter, error) {
		return otelstore.NewFileExporter(layout.File(dir, a.Scope.RunID, a.Scope.StepID, a.ID), syncEach), nil
	}
	opts.Fetcher = file.New(dir, read...)
	s, err := otelstore.New(opts)
	if err != nil {
		return nil, fmt.Errorf("runlog: open local store: %w", err)
	}
	return s, nil
}
