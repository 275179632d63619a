package file

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/internal/layout"
	"github.com/runlog/runlog/resource"
)

// source is what one fetch reads: files under a directory opened as an
// os.Root, through which no path, symbolic links included, leads out of
// that directory.
type source struct {
	root    *os.Root
	dir     string   // the root's path, for messages
	base    string   // the files' directory, relative to the root
	files   []string // relative to base
	local   bool     // in the local layout: each file one activation, in order
	damaged []runlog.Damage
	runID   string
	conv    *resource.Convention // maps the records' attributes; nil: resource.CICD
}

// path is how messages name a file or directory relative to base.
func (s *source) path(rel string) string { return filepath.Join(s.dir, s.base, rel) }

// damage records that rel (relative to base) could not be used.
func (s *source) damage(rel, stepID, msg string) {
	d := runlog.Damage{File: s.path(rel), Offset: -1, Err: msg}
	if s.local {
		d.RunID, d.StepID = s.runID, stepID
		if name, ok := strings.CutSuffix(filepath.Base(rel), layout.Ext); ok {
			d.ActivationID = name
		}
	}
	s.damaged = append(s.damaged, d)
}

// why says why name (relative to the root) could not be opened, without
// the path (messages name it) and without following a link.
func (s *source) why(name string, err error) string {
	if fi, lerr := s.root.Lstat(name); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
		return "a symbolic link that is absolute, leads out of " + s.dir + ", or leads nowhere: not followed"
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return err.Error() + " (check its permissions, or move it away)"
}

// source lists what q reads. It returns nil when there is nothing to read
// yet, and a *runlog.Error for a LogsURI outside the allowed directories.
func (r *Reader) source(q *runlog.Query) (*source, error) {
	if q.LogsURI != "" {
		return r.foreign(q)
	}
	root, err := os.OpenRoot(r.root)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	src := &source{root: root, dir: r.root, base: filepath.Join("runs", layout.Key(q.RunID)), local: true, runID: q.RunID, conv: r.conv}
	type step struct{ key, id string }
	var steps []step
	if q.StepID != "" {
		steps = []step{{layout.Key(q.StepID), q.StepID}}
	} else {
		for _, e := range src.readDir(".", "") {
			switch {
			case e.IsDir():
			case e.Type()&fs.ModeSymlink != 0:
				// Followed by readDir below as long as it stays inside.
			case layout.IsKey(e.Name()):
				src.damage(e.Name(), "", "not a directory: a step's records cannot be there (move it away)")
				continue
			default:
				continue // not the store's
			}
			steps = append(steps, step{key: e.Name()})
		}
	}
	for _, st := range steps {
		for _, e := range src.readDir(st.key, st.id) {
			if !strings.HasSuffix(e.Name(), layout.Ext) {
				continue
			}
			rel := filepath.Join(st.key, e.Name())
			if t := e.Type(); t.IsRegular() || t&fs.ModeSymlink != 0 {
				src.files = append(src.files, rel) // a link is checked on open
				continue
			}
			src.damage(rel, st.id, "not a regular file ("+kind(e.Type())+"): the store writes only regular files there (move it away)")
		}
	}
	slices.Sort(src.files)
	return src, nil
}

// readDir lists dir (relative to base). A directory that does not exist
// is empty; one that cannot be read is damage.
func (s *source) readDir(dir, stepID string) []fs.DirEntry {
	name := filepath.Join(s.base, dir)
	f, err := s.root.Open(name)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			s.damage(dir, stepID, "cannot list: "+s.why(name, err))
		} else if fi, lerr := s.root.Lstat(name); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
			s.damage(dir, stepID, "cannot list: "+s.why(name, err))
		}
		return nil
	}
	defer f.Close()
	ents, err := f.ReadDir(-1)
	if err != nil {
		s.damage(dir, stepID, "cannot list: "+s.why(name, err))
	}
	return ents
}

func kind(m fs.FileMode) string {
	switch t := m.Type(); {
	case t&fs.ModeDir != 0:
		return "a directory"
	case t&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case t&fs.ModeSocket != 0:
		return "a socket"
	case t&fs.ModeDevice != 0:
		return "a device"
	default:
		return "mode " + t.String()
	}
}

// foreign lists the files of q.LogsURI, which must be under the root or a
// directory of WithLogsURIDirs.
func (r *Reader) foreign(q *runlog.Query) (*source, error) {
	uri := strings.TrimPrefix(q.LogsURI, "file://")
	dir, rel, ok := r.allowed(uri)
	if !ok {
		also := ""
		if len(r.uriDirs) > 0 {
			also = " and logs_uri_dirs " + strings.Join(r.uriDirs, string(filepath.ListSeparator))
		}
		return nil, &runlog.Error{Kind: runlog.ErrInvalid, Op: "fetch", Store: r.root,
			Err:  fmt.Errorf("query: LogsURI %q is outside the directories this store may read: the data directory%s", q.LogsURI, also),
			Hint: "allow its directory with the local store's logs_uri_dirs key (file.WithLogsURIDirs), or move the file under the data directory"}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	src := &source{root: root, dir: dir, base: ".", conv: r.conv}
	fi, err := root.Stat(rel)
	switch {
	case err != nil && errors.Is(err, fs.ErrNotExist):
		if lfi, lerr := root.Lstat(rel); lerr == nil && lfi.Mode()&fs.ModeSymlink != 0 {
			src.damage(rel, "", src.why(rel, err))
		}
	case err != nil:
		src.damage(rel, "", src.why(rel, err))
	case !fi.IsDir():
		src.base, src.files = filepath.Dir(rel), []string{filepath.Base(rel)}
	default:
		src.base = rel
		_ = fs.WalkDir(root.FS(), filepath.ToSlash(rel), func(p string, d fs.DirEntry, err error) error {
			name := filepath.FromSlash(p)
			inBase, _ := filepath.Rel(rel, name)
			if err != nil {
				src.damage(inBase, "", "cannot list: "+src.why(name, err))
				return nil
			}
			if d.IsDir() || !strings.HasSuffix(p, ".json") && !strings.HasSuffix(p, layout.Ext) {
				return nil
			}
			if t := d.Type(); t.IsRegular() || t&fs.ModeSymlink != 0 {
				src.files = append(src.files, inBase)
			} else {
				src.damage(inBase, "", "not a regular file ("+kind(t)+")")
			}
			return nil
		})
	}
	return src, nil
}

// allowed finds the directory that may be read for path: the root or one
// of the LogsURI directories, compared as absolute paths, then with
// symbolic links resolved. It returns that directory and path relative to
// it.
func (r *Reader) allowed(path string) (dir, rel string, ok bool) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", "", false
	}
	dirs := append([]string{r.root}, r.uriDirs...)
	resolved, rerr := filepath.EvalSymlinks(abs)
	for _, d := range dirs {
		dabs, err := filepath.Abs(d)
		if err != nil {
			continue
		}
		if rel, ok := within(dabs, abs); ok {
			return dabs, rel, true
		}
		if rerr != nil {
			continue
		}
		if dres, err := filepath.EvalSymlinks(dabs); err == nil {
			if rel, ok := within(dres, resolved); ok {
				return dres, rel, true
			}
		}
	}
	return "", "", false
}

// within returns path relative to dir if it is dir or under it.
func within(dir, path string) (string, bool) {
	rel, err := filepath.Rel(dir, path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return "", false
	}
	return rel, true
}
