package otelstore

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/internal/layout"
	"github.com/runlog/runlog/router"
)

// Options configure a Store. The zero value of every field but Exporter is
// a working default.
type Options struct {
	// Name says which store errors come from, such as "local /var/runlog".
	Name string
	// Exporter makes the exporter of one activation. Required.
	Exporter func(ctx context.Context, a *runlog.Activation) (sdklog.Exporter, error)
	// Fetcher reads back what the exporters wrote. Without one, Fetch
	// returns an error.
	Fetcher runlog.Fetcher
	// VisibleTimeout, if positive, makes Deactivate wait, once every
	// record of the activation was delivered, until Fetcher returns the
	// activation's end marker, for at most this long: read-your-writes
	// for backends that index asynchronously (a collector in front of
	// VictoriaLogs or Loki), so that a fetch right after Deactivate sees
	// the whole activation. Past the bound, or when Fetcher fails,
	// Deactivate returns nil all the same (the records were delivered;
	// they show up later). Zero does
	// not wait, for backends that read back what was written at once (the
	// local store's files).
	VisibleTimeout time.Duration
	// MinLevel is the lowest level stored. Zero means $RUNLOG_LEVEL if set
	// (debug, info, ...), else INFO. Set LevelDebug to store DEBUG records.
	MinLevel runlog.Level
	// Resource holds extra resource attributes for every activation, such
	// as service.name (default "runlog"). A scope's own attributes win.
	Resource map[string]string
	// LoggerName is the instrumentation scope of the records, LogEntry.Name.
	// Default "runlog".
	LoggerName string
	// NoSource leaves out the file, line and function of each log call,
	// which cost a runtime.CallersFrames lookup per record.
	NoSource bool
	// Console receives every record as well, at its own level. Nil means
	// the default slog handler at the first Activate; use
	// slog.DiscardHandler to store without printing.
	Console slog.Handler
	// CaptureStdio, set to capture.StdioHook, captures the process's own
	// stdout and stderr at the file descriptor level while the store has
	// activations (so fmt.Println, C code and child processes are
	// captured): each line is stored in the innermost activation (stdout
	// INFO, stderr WARN) and still printed. The last Deactivate restores
	// the descriptors. When the console is slog's initial default handler
	// it writes to the original stderr; a Console of your own that writes
	// to os.Stderr would be captured too. See router.Options.Stdio.
	CaptureStdio func(stored slog.Handler) (router.Capture, error)
	// Redact lists secrets replaced in messages and attributes before
	// records leave the process; see Redact. Flavors put the values of
	// their own secret keys here.
	Redact Redact
	// MaxMessageBytes is the longest message stored in one record; longer
	// ones are split into chunks. Default 64 KiB.
	MaxMessageBytes int
	// BatchSize is the most records per export. Default 1024.
	BatchSize int
	// QueueSize is the most records held in memory per activation before
	// logging blocks. Default 4096.
	QueueSize int
	// MemoryMaxBytes bounds the records the store holds in memory across
	// all its activations, from logging until export (each record counts
	// its message and attributes plus about 600 bytes): at the bound
	// logging blocks, as at QueueSize (OverflowDrop drops instead), fairly
	// between activations — while one below its share (the bound divided
	// by the activations in force) waits, those above it do not take what
	// is freed, so a hot step cannot starve the others. Stats.Waited
	// counts records whose logging waited. Default 64 MiB: 1,000 steps
	// logging at once hold that, not 1,000 queues. End markers are let
	// through, and a single record larger than the bound goes through
	// alone.
	MemoryMaxBytes int64
	// ExportInterval is the longest a record waits before export. Default 1s.
	ExportInterval time.Duration
	// ExportTimeout bounds one export. Default 30s.
	ExportTimeout time.Duration

	// Overflow says what logging does when QueueSize records wait in
	// memory: OverflowBlock (the default) waits for the exporter, losing
	// nothing; OverflowDrop drops the record and counts it (Deactivate's
	// error, the end marker, the otel.sdk.processor.log.processed metric).
	Overflow Overflow
	// SpoolDir is where records that could not be exported are kept until
	// they are replayed: by the activation itself once the backend is back,
	// else by the next Activate, Store.Flush or `runlog flush`. Empty means
	// DefaultSpoolDir(Name). See docs/reliability.md.
	SpoolDir string
	// NoSpool turns the spool off: records that cannot be exported are
	// dropped and counted.
	NoSpool bool
	// SpoolSync is the spool's fsync policy; default SyncAlways.
	SpoolSync SyncPolicy
	// SpoolMaxBytes bounds the spool directory; records that do not fit
	// are dropped and counted, with an error naming the directory.
	// Default 1 GiB.
	SpoolMaxBytes int64
	// SpoolMaxAge is how long a spool file waits for its backend: older
	// ones are removed, unreplayed, by the next replay. Default 7 days.
	SpoolMaxAge time.Duration
}

// Overflow is what logging does when an activation's queue is full.
type Overflow string

const (
	OverflowBlock Overflow = "block" // wait for the exporter: nothing is lost
	OverflowDrop  Overflow = "drop"  // drop the record, counting it
)

func (o *Options) setDefaults() error {
	if o.Exporter == nil {
		return runlog.Invalidf("otelstore: Options.Exporter is nil; give a function that makes an sdk/log exporter")
	}
	if o.MinLevel == 0 {
		o.MinLevel = runlog.LevelInfo
		if env := os.Getenv("RUNLOG_LEVEL"); env != "" {
			l, err := runlog.ParseLevel(env)
			if err != nil {
				return fmt.Errorf("RUNLOG_LEVEL: %w", err)
			}
			o.MinLevel = l
		}
	}
	if o.LoggerName == "" {
		o.LoggerName = "runlog"
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.MaxMessageBytes, 64<<10)
	def(&o.BatchSize, 1024)
	def(&o.QueueSize, 4096)
	o.QueueSize = max(o.QueueSize, o.BatchSize)
	if o.MemoryMaxBytes <= 0 {
		o.MemoryMaxBytes = 64 << 20
	}
	if o.ExportInterval <= 0 {
		o.ExportInterval = time.Second
	}
	if o.ExportTimeout <= 0 {
		o.ExportTimeout = 30 * time.Second
	}
	switch o.Overflow {
	case "":
		o.Overflow = OverflowBlock
	case OverflowBlock, OverflowDrop:
	default:
		return runlog.Invalidf("otelstore: Overflow %q; use block or drop", o.Overflow)
	}
	switch o.SpoolSync {
	case "":
		o.SpoolSync = SyncAlways
	case SyncAlways, SyncNever:
	default:
		return runlog.Invalidf("otelstore: SpoolSync %q; use always or never", o.SpoolSync)
	}
	if o.SpoolMaxBytes <= 0 {
		o.SpoolMaxBytes = 1 << 30
	}
	if o.SpoolMaxAge <= 0 {
		o.SpoolMaxAge = 7 * 24 * time.Hour
	}
	if o.SpoolDir == "" && !o.NoSpool {
		d, err := DefaultSpoolDir(o.Name)
		if err != nil {
			return runlog.Invalidf("otelstore: no spool directory: %v; set Options.SpoolDir or RUNLOG_SPOOL_DIR, or NoSpool", err)
		}
		o.SpoolDir = d
	}
	return nil
}

// DefaultSpoolDir returns the spool directory of the store named key:
// a directory named after key under $RUNLOG_SPOOL_DIR, else under
// runlog/spool in the user's cache directory. Stores that write to
// different backends need different keys: a spool is replayed to the
// backend of the store that opens it.
func DefaultSpoolDir(key string) (string, error) {
	root := os.Getenv("RUNLOG_SPOOL_DIR")
	if root == "" {
		d, err := os.UserCacheDir()
		if err != nil {
			return "", err
		}
		root = filepath.Join(d, "runlog", "spool")
	}
	if key == "" {
		key = "default"
	}
	return filepath.Join(root, layout.Key(key)), nil
}
