package stores

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/runlog/runlog"
)

// ErrUntrusted is wrapped by the error CheckTrusted returns.
var ErrUntrusted = errors.New("stores file not trusted")

// CheckTrusted reports whether the file Load read may name programs to
// run: the programs of external flavors run with the user's rights, so a
// file that another user can write, or that another user owns, could make
// runlog run anything. It returns an error wrapping ErrUntrusted and
// ErrInvalid, with the command that fixes the file, if the file is group-
// or world-writable or not owned by the current user. A file that did not
// exist, or a File not read by Load, is trusted: it names no program.
func (f *File) CheckTrusted() error {
	if f.info == nil {
		return nil
	}
	if perm := f.info.Mode().Perm(); perm&0o022 != 0 {
		return &runlog.Error{Kind: runlog.ErrInvalid, Op: "load", Store: f.path,
			Err:  fmt.Errorf("%w: its mode is %04o, so others can write it and choose the programs runlog runs", ErrUntrusted, perm),
			Hint: "run `chmod 600 " + f.path + "` if its content is yours"}
	}
	if uid, owner, ok := fileOwner(f.info); ok && uid != owner {
		return &runlog.Error{Kind: runlog.ErrInvalid, Op: "load", Store: f.path,
			Err:  fmt.Errorf("%w: it is owned by user %d, not by you (user %d), and names the programs runlog runs", ErrUntrusted, owner, uid),
			Hint: fmt.Sprintf("run `chown %d %s` if its content is yours", uid, f.path)}
	}
	return nil
}

// Path returns the path Load read f from ("" for a File made otherwise).
func (f *File) Path() string { return f.path }

// Edit changes the stores file at path ("" for DefaultPath) under an
// exclusive lock, so that concurrent writers do not lose each other's
// changes: it locks a lock file beside it (path + ".lock"), loads the
// file, calls edit, and saves the result if edit returns nil. The lock is
// advisory: it orders the writers that use Edit.
func Edit(ctx context.Context, path string, edit func(*File) error) error {
	if path == "" {
		var err error
		if path, err = DefaultPath(); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	unlock, err := lockFile(ctx, path+".lock")
	if err != nil {
		return &runlog.Error{Kind: runlog.ErrUnavailable, Op: "lock", Store: path + ".lock", Err: err}
	}
	defer unlock()
	f, err := Load(path)
	if err != nil {
		return err
	}
	if err := edit(f); err != nil {
		return err
	}
	return f.Save(path)
}

// DeleteFlavor removes the external flavor named name. While stores use
// it, it is refused with their names, unless force is set: then those
// stores are deleted too, and their names returned.
func (f *File) DeleteFlavor(name string, force bool) ([]string, error) {
	if _, ok := f.Flavors[name]; !ok {
		names := make([]string, 0, len(f.Flavors))
		for n := range f.Flavors {
			names = append(names, n)
		}
		slices.Sort(names)
		hint := "no external flavor is registered; built-in flavors cannot be deleted"
		if len(names) > 0 {
			hint = "external flavors: " + strings.Join(names, ", ") + "; built-in flavors cannot be deleted"
		}
		return nil, &runlog.Error{Kind: runlog.ErrNotFound, Op: "flavor delete", Err: fmt.Errorf("no external flavor %q", name), Hint: hint}
	}
	var users []string
	for _, n := range f.Names() {
		if f.Stores[n].Flavor == name {
			users = append(users, n)
		}
	}
	if len(users) > 0 && !force {
		return nil, &runlog.Error{Kind: runlog.ErrInvalid, Op: "flavor delete", Store: name,
			Err:  fmt.Errorf("stores use it: %s", strings.Join(users, ", ")),
			Hint: "delete those stores first, or delete them with the flavor with --force"}
	}
	for _, n := range users {
		if err := f.Delete(n); err != nil {
			return nil, err
		}
	}
	delete(f.Flavors, name)
	if len(f.Flavors) == 0 {
		f.Flavors = nil
	}
	return users, nil
}
