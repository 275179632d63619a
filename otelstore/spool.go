package otelstore

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/resource"
)

// SyncPolicy says when the spool makes its writes durable with fsync.
type SyncPolicy string

const (
	// SyncAlways fsyncs every spooled batch before counting it spooled: a
	// spooled record survives the process and the machine (power loss).
	SyncAlways SyncPolicy = "always"
	// SyncNever leaves writing back to the operating system: a spooled
	// record survives the process (crash, SIGKILL, OOM kill) but not a
	// crash of the machine.
	SyncNever SyncPolicy = "never"
)

// Spool file names: <activation id><spoolExt> holds OTLP JSON lines (one
// batch per line, the file exporter's format), <activation id><doneExt> the
// byte offset up to which they were replayed.
const (
	spoolExt = ".spool"
	doneExt  = ".spool.done"
)

var errSpoolFull = errors.New("spool full")

// spool is a store's spool directory. Each activation that cannot export
// writes its own segment there, holding an exclusive lock on it while it
// lives; a segment nobody holds is an orphan (its process ended or died),
// replayed by the next Activate, Store.Flush or `runlog flush`.
type spool struct {
	dir      string
	sync     SyncPolicy
	maxBytes int64
	maxAge   time.Duration

	once sync.Once
	err  error
	used atomic.Int64 // bytes in dir: measured once, then kept up to date by this process
}

// open creates the directory and measures what is in it, once.
func (sp *spool) open() error {
	sp.once.Do(func() {
		if err := os.MkdirAll(sp.dir, 0o700); err != nil {
			sp.err = err
			return
		}
		var n int64
		ents, err := os.ReadDir(sp.dir)
		if err != nil {
			sp.err = err
			return
		}
		for _, e := range ents {
			if fi, err := e.Info(); err == nil && fi.Mode().IsRegular() {
				n += fi.Size()
			}
		}
		sp.used.Store(n)
	})
	return sp.err
}

// segment is one activation's spool file. A segment is used by one
// goroutine at a time (the activation's worker, or a replayer holding its
// lock).
type segment struct {
	sp   *spool
	path string
	f    *os.File // the lines, locked
	done *os.File // the replay offset
	size int64    // bytes in f
	off  int64    // bytes of f replayed
	// pending counts the records in f after off (known for segments this
	// process wrote; counted on replay for orphans).
	pending uint64
	// rejected counts the records replay set aside because the backend
	// refused them as invalid (see Rejected); rejectErr says why.
	rejected  uint64
	rejectErr error
	enc       plog.JSONMarshaler
}

// id returns the activation id the segment is named after.
func (sg *segment) id() string { return strings.TrimSuffix(filepath.Base(sg.path), spoolExt) }

// create makes the segment of activation id, locked.
func (sp *spool) create(id string) (*segment, error) {
	if err := sp.open(); err != nil {
		return nil, err
	}
	path := filepath.Join(sp.dir, id+spoolExt)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	if err := lockFile(f); err != nil {
		f.Close()
		return nil, err
	}
	done, err := os.OpenFile(path[:len(path)-len(spoolExt)]+doneExt, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &segment{sp: sp, path: path, f: f, done: done}, nil
}

// openOrphan opens and locks an existing segment; ok is false when another
// activation holds it.
func (sp *spool) openOrphan(path string) (sg *segment, ok bool, err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND, 0o600)
	if err != nil {
		return nil, false, err
	}
	if err := tryLockFile(f); err != nil {
		f.Close()
		if errors.Is(err, errLocked) {
			return nil, false, nil
		}
		return nil, false, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, false, err
	}
	done, err := os.OpenFile(path[:len(path)-len(spoolExt)]+doneExt, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		f.Close()
		return nil, false, err
	}
	sg = &segment{sp: sp, path: path, f: f, done: done, size: fi.Size()}
	var buf [32]byte
	n, _ := done.ReadAt(buf[:], 0)
	if off, err := strconv.ParseInt(strings.TrimSpace(string(buf[:n])), 10, 64); err == nil {
		sg.off = min(off, sg.size)
	}
	return sg, true, nil
}

// write appends recs as one line; past the size bound only with force. On
// error nothing is appended.
func (sg *segment) write(recs []sdklog.Record, enc *plog.JSONMarshaler, force bool) error {
	b, err := enc.MarshalLogs(toPlog(recs))
	if err != nil {
		return fmt.Errorf("encode %d records: %w", len(recs), err)
	}
	b = append(b, '\n')
	n := int64(len(b))
	if !force && sg.sp.maxBytes > 0 && sg.sp.used.Load()+n > sg.sp.maxBytes {
		return fmt.Errorf("%w: %d of %d bytes used in %s", errSpoolFull, sg.sp.used.Load(), sg.sp.maxBytes, sg.sp.dir)
	}
	if _, err := sg.f.Write(b); err != nil {
		_ = sg.f.Truncate(sg.size) // no torn line
		return err
	}
	if sg.sp.sync == SyncAlways {
		if err := sg.f.Sync(); err != nil {
			_ = sg.f.Truncate(sg.size)
			return err
		}
	}
	sg.size += n
	sg.sp.used.Add(n)
	sg.pending += uint64(len(recs))
	return nil
}

// replay exports the segment's lines after off, in order, until the end or
// the first failure, recording progress after each line. It returns the
// records delivered and those found unreadable (a torn last line).
func (sg *segment) replay(ctx context.Context, exp sdklog.Exporter, timeout time.Duration) (delivered, bad uint64, err error) {
	if sg.off >= sg.size {
		return 0, 0, nil
	}
	r := bufio.NewReaderSize(io.NewSectionReader(sg.f, sg.off, sg.size-sg.off), 1<<20)
	var dec plog.JSONUnmarshaler
	for sg.off < sg.size {
		if err := ctx.Err(); err != nil {
			return delivered, bad, err
		}
		line, rerr := r.ReadBytes('\n')
		if rerr != nil && rerr != io.EOF {
			return delivered, bad, rerr
		}
		recs, derr := func() ([]sdklog.Record, error) {
			if rerr == io.EOF { // no newline: a write cut short by a crash
				return nil, errors.New("torn line")
			}
			ld, err := dec.UnmarshalLogs(line)
			if err != nil {
				return nil, err
			}
			return fromPlog(ld), nil
		}()
		if derr != nil {
			// Unreadable: skip it (counted), or the spool could never drain.
			bad++
		} else {
			ectx, cancel := context.WithTimeout(ctx, timeout)
			err := exp.Export(ectx, recs)
			cancel()
			switch {
			case err != nil && rejected(err):
				// Never accepted: set aside, or the spool could never drain.
				sg.rejected += uint64(len(recs))
				sg.rejectErr = errors.Join(err, setAside(rejectPath(sg.sp.dir, sg.id()), recs, &sg.enc))
			case err != nil:
				return delivered, bad, err
			default:
				delivered += uint64(len(recs))
			}
			sg.pending -= min(sg.pending, uint64(len(recs)))
		}
		sg.off += int64(len(line))
		if err := sg.saveOffset(); err != nil {
			return delivered, bad, err
		}
	}
	return delivered, bad, nil
}

func (sg *segment) saveOffset() error {
	s := fmt.Sprintf("%-20d\n", sg.off)
	if _, err := sg.done.WriteAt([]byte(s), 0); err != nil {
		return err
	}
	if sg.sp.sync == SyncAlways {
		return sg.done.Sync()
	}
	return nil
}

// reset empties a fully replayed segment that stays in use.
func (sg *segment) reset() error {
	if sg.off < sg.size {
		return nil
	}
	if err := sg.f.Truncate(0); err != nil {
		return err
	}
	sg.sp.used.Add(-sg.size)
	sg.size, sg.off = 0, 0
	return sg.saveOffset()
}

// close releases the segment, removing it when fully replayed.
func (sg *segment) close() error {
	var err error
	if sg.off >= sg.size {
		err = errors.Join(os.Remove(sg.path), os.Remove(sg.done.Name()))
		if errors.Is(err, fs.ErrNotExist) {
			err = nil
		}
		sg.sp.used.Add(-sg.size)
	}
	return errors.Join(err, sg.done.Close(), sg.f.Close())
}

// scope reads the scope and activation id of an orphan from its first line.
func (sg *segment) scope() (runlog.Activation, error) {
	r := bufio.NewReader(io.NewSectionReader(sg.f, 0, sg.size))
	line, err := r.ReadBytes('\n')
	if err != nil {
		return runlog.Activation{}, fmt.Errorf("read %s: %w", sg.path, err)
	}
	var dec plog.JSONUnmarshaler
	ld, err := dec.UnmarshalLogs(line)
	if err != nil || ld.ResourceLogs().Len() == 0 {
		return runlog.Activation{}, fmt.Errorf("read %s: not an OTLP JSON line: %v", sg.path, err)
	}
	var a runlog.Activation
	ld.ResourceLogs().At(0).Resource().Attributes().Range(func(k string, v pcommon.Value) bool {
		switch k {
		case resource.RunID:
			a.Scope.RunID = v.AsString()
		case resource.StepID:
			a.Scope.StepID = v.AsString()
		case resource.Source:
			a.Scope.Source = v.AsString()
		case resource.Attempt:
			n, _ := strconv.Atoi(v.AsString())
			a.Scope.Attempt = n
		case resource.ActivationID:
			a.ID = v.AsString()
		}
		return true
	})
	if a.ID == "" {
		a.ID = strings.TrimSuffix(filepath.Base(sg.path), spoolExt)
	}
	return a, nil
}

// ReplayReport is what Store.Flush did with the spool: the report of
// every runlog.Flusher.
type ReplayReport = runlog.FlushReport

// replayOrphans replays every segment no live activation holds, with an
// exporter made by mk for its activation, and removes those fully replayed.
func (sp *spool) replayOrphans(ctx context.Context, mk func(context.Context, *runlog.Activation) (sdklog.Exporter, error), timeout time.Duration) (ReplayReport, error) {
	rep := ReplayReport{Dir: sp.dir}
	paths, err := filepath.Glob(filepath.Join(sp.dir, "*"+spoolExt))
	if err != nil || len(paths) == 0 {
		return rep, err
	}
	if err := sp.open(); err != nil {
		return rep, err
	}
	var errs []error
	for _, p := range paths {
		if ctx.Err() != nil {
			rep.Remaining++
			continue
		}
		sg, ok, err := sp.openOrphan(p)
		if err != nil {
			errs = append(errs, err)
			rep.Remaining++
			continue
		}
		if !ok {
			rep.Remaining++
			continue
		}
		if fi, err := sg.f.Stat(); err == nil && sp.maxAge > 0 && time.Since(fi.ModTime()) > sp.maxAge {
			sg.off = sg.size // give up on it
			rep.Expired++
			errs = append(errs, sg.close())
			continue
		}
		n, bad, err := sp.replayOne(ctx, sg, mk, timeout)
		rep.Replayed += n
		rep.Unreadable += bad
		rep.Rejected += sg.rejected
		if err != nil {
			errs = append(errs, err)
		}
		if sg.off >= sg.size {
			rep.Segments++
		} else {
			rep.Remaining++
		}
		errs = append(errs, sg.close())
	}
	return rep, errors.Join(errs...)
}

func (sp *spool) replayOne(ctx context.Context, sg *segment, mk func(context.Context, *runlog.Activation) (sdklog.Exporter, error), timeout time.Duration) (uint64, uint64, error) {
	if sg.off >= sg.size {
		return 0, 0, nil
	}
	a, err := sg.scope()
	if err != nil {
		return 0, 0, err
	}
	exp, err := mk(ctx, &a)
	if err != nil {
		return 0, 0, err
	}
	n, bad, err := sg.replay(ctx, exp, timeout)
	if err != nil {
		err = fmt.Errorf("replay %s (%s): %w", sg.path, a.Scope, err)
	}
	return n, bad, errors.Join(err, exp.Shutdown(context.WithoutCancel(ctx)))
}
