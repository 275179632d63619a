package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/flavors"
	"github.com/runlog/runlog/stores"
)

func newLogStore() *cobra.Command {
	ls := &cobra.Command{
		Use: "log-store",
		Example: `  runlog log-store register ci --flavor victorialogs --url=http://127.0.0.1:9428 --endpoint=http://127.0.0.1:4318
  runlog log-store list`,
		Short: "Register and manage log stores and their flavors",
		Long: `Log stores are named configurations of a flavor, kept in one file
(runlog/stores.json under the user's config directory, mode 0600;
$RUNLOG_CONFIG overrides). With none registered, commands use the embedded
local store.`,
	}
	ls.AddCommand(newFlavor(), newRegister(), newUpdate(), newStoreList(), newDescribe(), newDelete(), newSetDefault())
	return ls
}

func newFlavor() *cobra.Command {
	fl := &cobra.Command{Use: "flavor", Short: "Flavors of log store",
		Example: "  runlog log-store flavor list\n  runlog log-store flavor describe otel"}
	fl.AddCommand(&cobra.Command{
		Use:     "list",
		Short:   "List the registered flavors",
		Example: "  runlog log-store flavor list",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := registerExternals(cmd); err != nil {
				return err
			}
			w := table(cmd.OutOrStdout())
			fmt.Fprintln(w, "FLAVOR\tDESCRIPTION")
			for _, f := range runlog.Flavors() {
				fmt.Fprintf(w, "%s\t%s\n", escapeText(f.Name), escapeText(f.Doc))
			}
			return w.Flush()
		},
	}, &cobra.Command{
		Use:     "describe FLAVOR",
		Short:   "Show a flavor's configuration keys",
		Example: "  runlog log-store flavor describe otel",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sf, err := stores.Load("")
			if err != nil {
				return err
			}
			if err := registerExternal(cmd, sf, args[0]); err != nil {
				return err
			}
			f, err := runlog.LookupFlavor(args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %s\n\n", escapeText(f.Name), escapeText(f.Doc))
			w := table(cmd.OutOrStdout())
			fmt.Fprintln(w, "KEY\tTYPE\tDEFAULT\tREQUIRED\tSECRET\tDESCRIPTION")
			for _, k := range f.Keys {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", escapeText(k.Name), escapeText(string(k.Type)), escapeText(k.Default), yes(k.Required), yes(k.Secret), escapeText(k.Doc))
			}
			return w.Flush()
		},
	})
	fl.AddCommand(&cobra.Command{
		Use:   "register PROGRAM",
		Short: "Register a flavor built outside runlog: a program speaking runlog's JSON protocol",
		Long: `Register an external flavor: a program, in any language, that answers
'PROGRAM describe' with its name, doc and configuration keys, and
'PROGRAM fetch' with a page of entries for a query (JSON on stdin and
stdout; see docs/cli.md). Records are written over OTLP/HTTP (keys endpoint
and headers), so the program only reads. The flavor is remembered in the
stores file.`,
		Example: "  runlog log-store flavor register ./bin/my-backend-flavor",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return editStores(cmd, func(f *stores.File) error {
				if err := f.CheckTrusted(); err != nil {
					return err // its other flavors' programs would run
				}
				flv, err := flavors.RegisterProgram(cmd.Context(), f, args[0])
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "registered flavor %s\n", escapeText(flv.Name))
				return nil
			})
		},
	})
	var force bool
	del := &cobra.Command{
		Use:   "delete FLAVOR",
		Short: "Forget an external flavor (refused while stores use it, unless --force)",
		Long: `Remove an external flavor from the stores file; its program is not run
and not removed. While stores use the flavor it is refused with their
names; --force deletes those stores too. Built-in flavors cannot be
deleted.`,
		Example: "  runlog log-store flavor delete my_backend\n  runlog log-store flavor delete my_backend --force",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return editStores(cmd, func(f *stores.File) error {
				gone, err := f.DeleteFlavor(args[0], force)
				if err != nil {
					return err
				}
				for _, n := range gone {
					fmt.Fprintf(cmd.OutOrStdout(), "deleted log store %s\n", escapeText(n))
				}
				fmt.Fprintf(cmd.OutOrStdout(), "deleted flavor %s\n", escapeText(args[0]))
				return nil
			})
		},
	}
	del.Flags().BoolVar(&force, "force", false, "also delete the stores that use the flavor")
	fl.AddCommand(del)
	return fl
}

// keyValues parses NAME --flavor F --key=value --key value ... as given to
// register and update: any key of the flavor is a flag, "-" or "_" alike.
func keyValues(args []string) (name, flavor string, cfg map[string]string, err error) {
	cfg = map[string]string{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "--") {
			if name != "" {
				return "", "", nil, fmt.Errorf("unexpected argument %q; give settings as --key=value", a)
			}
			name = a
			continue
		}
		k, v, ok := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if !ok {
			if i+1 >= len(args) {
				return "", "", nil, fmt.Errorf("--%s needs a value", k)
			}
			i++
			v = args[i]
		}
		if k == "flavor" {
			flavor = v
			continue
		}
		cfg[strings.ReplaceAll(k, "-", "_")] = v
	}
	if name == "" {
		return "", "", nil, fmt.Errorf("missing the store's NAME")
	}
	return name, flavor, cfg, nil
}

func wantsHelp(args []string) bool {
	return slices.ContainsFunc(args, func(a string) bool { return a == "-h" || a == "--help" })
}

func newRegister() *cobra.Command {
	return &cobra.Command{
		Use:   "register NAME --flavor FLAVOR [--key=value ...]",
		Short: "Register a log store",
		Long: `Register a log store: a name for a flavor and its settings. Keys are the
flavor's (see 'runlog log-store flavor describe FLAVOR'); '-' and '_' are
alike. Secret values can be given as ${ENV_VAR}, resolved when the store is
opened; they are never printed.`,
		Example: `  runlog log-store register ci --flavor victorialogs --url=http://127.0.0.1:9428 --endpoint=http://127.0.0.1:4318
  runlog log-store register team --flavor victorialogs --url=https://logs.example --account-id=3 --username=me --password='${VL_PASSWORD}'
  runlog log-store register loki --flavor otel --endpoint=http://127.0.0.1:4318 --query_url=http://127.0.0.1:3100`,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if wantsHelp(args) {
				return cmd.Help()
			}
			name, flavor, cfg, err := keyValues(args)
			if err != nil {
				return usageError(cmd, err)
			}
			if flavor == "" {
				return usageError(cmd, fmt.Errorf("missing --flavor; see 'runlog log-store flavor list'"))
			}
			return editStores(cmd, func(f *stores.File) error {
				if err := registerExternal(cmd, f, flavor); err != nil {
					return err
				}
				if err := f.Register(name, flavor, cfg); err != nil {
					return err
				}
				if len(f.Stores) == 1 {
					f.Default = name
				}
				fmt.Fprintf(cmd.OutOrStdout(), "registered log store %s (flavor %s)\n", escapeText(name), escapeText(flavor))
				return nil
			})
		},
	}
}

func newUpdate() *cobra.Command {
	return &cobra.Command{
		Use:                "update NAME --key=value ...",
		Short:              "Change settings of a log store (an empty value removes a key)",
		Example:            "  runlog log-store update ci --query-timeout=1m",
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if wantsHelp(args) {
				return cmd.Help()
			}
			name, flavor, cfg, err := keyValues(args)
			if err != nil {
				return usageError(cmd, err)
			}
			if flavor != "" {
				return usageError(cmd, fmt.Errorf("a store's flavor cannot change; delete it and register it again"))
			}
			return editStores(cmd, func(f *stores.File) error {
				if name == stores.Local {
					return runlog.Invalidf("%q is the embedded local store, which has no settings to update; register a store of flavor local to set its keys", name)
				}
				if e, err := f.Get(name); err == nil {
					if err := registerExternal(cmd, f, e.Flavor); err != nil {
						return err
					}
				}
				if err := f.Update(name, cfg); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "updated log store %s\n", escapeText(name))
				return nil
			})
		},
	}
}

func newStoreList() *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Short:   "List the registered log stores",
		Example: "  runlog log-store list",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := stores.Load("")
			if err != nil {
				return err
			}
			// Masked needs a flavor's keys to tell secrets; the stores of a
			// broken external flavor are shown all masked.
			// An untrusted file's programs are not run: its stores too.
			var errs []error
			if err := f.CheckTrusted(); err != nil && len(f.Flavors) > 0 {
				errs = append(errs, err)
			} else {
				for _, n := range f.Names() {
					errs = append(errs, flavors.RegisterExternal(cmd.Context(), f, f.Stores[n].Flavor))
				}
			}
			warn(cmd, errors.Join(errs...))
			w := table(cmd.OutOrStdout())
			fmt.Fprintln(w, "NAME\tFLAVOR\tDEFAULT\tCONFIG")
			// The embedded store is always there, under the name --store takes.
			isDefault := f.Default == "" || f.Default == stores.Local
			fmt.Fprintf(w, "%s\tlocal\t%s\t(embedded; $RUNLOG_DATA_DIR or the user's data directory)\n", stores.Local, yes(isDefault))
			for _, n := range f.Names() {
				e := f.Stores[n]
				if n == stores.Local {
					continue // a file written before the name was reserved; --store local is the embedded store
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", escapeText(n), escapeText(e.Flavor), yes(n == f.Default), pairs(stores.Masked(e.Flavor, e.Config)))
			}
			return w.Flush()
		},
	}
}

func newDescribe() *cobra.Command {
	return &cobra.Command{
		Use:     "describe NAME",
		Short:   "Show a log store's settings (secrets masked)",
		Example: "  runlog log-store describe ci",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := stores.Load("")
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if args[0] == stores.Local {
				fmt.Fprintf(out, "name:    %s\nflavor:  local\ndefault: %s\n  (embedded; $RUNLOG_DATA_DIR or the user's data directory)\n",
					stores.Local, yes(f.Default == "" || f.Default == stores.Local))
				return nil
			}
			e, err := f.Get(args[0])
			if err != nil {
				return err
			}
			if err := registerExternal(cmd, f, e.Flavor); err != nil {
				warn(cmd, err) // shown all masked, so that it can still be inspected
			}
			fmt.Fprintf(out, "name:    %s\nflavor:  %s\ndefault: %s\n", escapeText(args[0]), escapeText(e.Flavor), yes(args[0] == f.Default))
			m := stores.Masked(e.Flavor, e.Config)
			keys := make([]string, 0, len(m))
			for k := range m {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				fmt.Fprintf(out, "  %s = %s\n", escapeText(k), escapeText(m[k]))
			}
			return nil
		},
	}
}

// nameCommand is a command that edits the stores file for one store NAME.
func nameCommand(use, short, example string, edit func(*stores.File, string) error, done string) *cobra.Command {
	return &cobra.Command{
		Use:     use + " NAME",
		Short:   short,
		Example: example,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return editStores(cmd, func(f *stores.File) error {
				if err := edit(f, args[0]); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), done+"\n", escapeText(args[0]))
				return nil
			})
		},
	}
}

func newDelete() *cobra.Command {
	return nameCommand("delete", "Delete a log store (its logs stay in the backend)", "  runlog log-store delete ci",
		(*stores.File).Delete, "deleted log store %s")
}

func newSetDefault() *cobra.Command {
	return nameCommand("set-default", "Make a log store the default", "  runlog log-store set-default ci",
		(*stores.File).SetDefault, "default log store: %s")
}

// registerExternals registers the external flavors of the stores file,
// warning about those whose program fails.
func registerExternals(cmd *cobra.Command) error {
	f, err := stores.Load("")
	if err != nil {
		return err
	}
	if err := f.CheckTrusted(); err != nil && len(f.Flavors) > 0 {
		warn(cmd, err) // its programs are not run
		return nil
	}
	warn(cmd, flavors.RegisterExternals(cmd.Context(), f))
	return nil
}

// warn prints each line of err, if any, as a warning.
func warn(cmd *cobra.Command, err error) {
	if err == nil {
		return
	}
	cliHints(err)
	for _, line := range errorLines(err) {
		fmt.Fprintf(cmd.ErrOrStderr(), "runlog: warning: %s\n", strings.TrimPrefix(line, "runlog: "))
	}
}

// editStores edits the stores file under its lock (stores.Edit), so that
// concurrent writers keep each other's changes.
func editStores(cmd *cobra.Command, edit func(*stores.File) error) error {
	return stores.Edit(cmd.Context(), "", edit)
}

func usageError(cmd *cobra.Command, err error) error {
	return errors.Join(err, fmt.Errorf("usage: runlog log-store %s", cmd.Use))
}

func table(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0) }

func yes(b bool) string {
	if b {
		return "yes"
	}
	return ""
}

func pairs(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%s", escapeText(k), escapeText(m[k]))
	}
	return b.String()
}
