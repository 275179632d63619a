// Package layout is the directory layout of the local store, shared by the
// writer (otelstore) and the reader (query/file):
//
//	<root>/runs/<run key>/<step key>/<activation id>.jsonl
//
// Each file holds the records of one activation as OTLP JSON lines, one
// ExportLogsServiceRequest per line: the format the OpenTelemetry
// Collector's file exporter writes; each batch is one zstd frame of its
// lines (see internal/framing; older files are plain lines). One run's logs sit under one directory,
// one step's under one subdirectory, so a fetch never reads other runs.
//
// Ids never become raw path components: a key is a short readable slug of
// the id followed by a hash of the whole id, so "../../x" is stored as
// "x-<hash>" and two ids never share a directory.
package layout

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// Ext is the extension of record files.
const Ext = ".jsonl"

// MaxLine is the longest line, newline included, that a record file holds:
// the writer splits a batch that would encode longer into several lines,
// and the reader skips a longer line (reporting it) without holding it in
// memory. Batches of BatchSize (1,024) records of at most 64 KiB each fit
// well within it.
const MaxLine = 64 << 20

// RunLevel is the step key of run-level records (empty step id). Keys of
// non-empty ids always end in "-<hash>", so it cannot clash with them.
const RunLevel = "_run"

// Key returns the path component that stands for id.
func Key(id string) string {
	if id == "" {
		return RunLevel
	}
	sum := sha256.Sum256([]byte(id))
	var slug strings.Builder
	for _, r := range id {
		if slug.Len() >= 32 {
			break
		}
		if r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			slug.WriteRune(r)
		}
	}
	if slug.Len() == 0 {
		slug.WriteString("id")
	}
	return slug.String() + "-" + hex.EncodeToString(sum[:8])
}

// RunDir is the directory of a run's records.
func RunDir(root, runID string) string {
	return filepath.Join(root, "runs", Key(runID))
}

// StepDir is the directory of a step's records; an empty step id is the
// run level.
func StepDir(root, runID, stepID string) string {
	return filepath.Join(RunDir(root, runID), Key(stepID))
}

// File is the file of one activation.
func File(root, runID, stepID, activationID string) string {
	return filepath.Join(StepDir(root, runID, stepID), activationID+Ext)
}

// DefaultRoot returns the directory of the local store: $RUNLOG_DATA_DIR if
// set, else "runlog" under the user's data directory ($XDG_DATA_HOME or
// ~/.local/share on Unix, ~/Library/Application Support on macOS,
// %LocalAppData% on Windows).
func DefaultRoot() (string, error) {
	if d := os.Getenv("RUNLOG_DATA_DIR"); d != "" {
		return d, nil
	}
	switch runtime.GOOS {
	case "windows":
		if d := os.Getenv("LocalAppData"); d != "" {
			return filepath.Join(d, "runlog"), nil
		}
	case "darwin", "ios":
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		return filepath.Join(home, "Library", "Application Support", "runlog"), nil
	default:
		if d := os.Getenv("XDG_DATA_HOME"); d != "" {
			return filepath.Join(d, "runlog"), nil
		}
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, ".local", "share", "runlog"), nil
}

// IsKey reports whether name has the form of a key that Key returns.
func IsKey(name string) bool {
	if name == RunLevel {
		return true
	}
	i := strings.LastIndexByte(name, '-')
	if i < 1 || len(name)-i-1 != 16 {
		return false
	}
	for _, c := range name[i+1:] {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
