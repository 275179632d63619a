package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/runlog/runlog/serve"
)

func newServe() *cobra.Command {
	var (
		addr, store, tokenFile, addrFile string
		insecure, allowDelete            bool
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the logs API and the web viewer",
		Long: `Serve the JSON API (/api/v1/...) and the web viewer (/) over a log store,
opening only its reader. See docs/serve.md.

It listens on 127.0.0.1:8080 by default. With a token (--token-file, or
$RUNLOG_SERVE_TOKEN) every /api/ request needs "Authorization: Bearer
TOKEN"; open the viewer at http://ADDR/#token=TOKEN. Without a token it
refuses to listen on an address other than loopback unless
--insecure-no-auth is given, answers only requests for a loopback host
name, and refuses DELETE unless --allow-delete is given.`,
		Example: `  runlog serve
  RUNLOG_SERVE_TOKEN=$(cat token) runlog serve --addr 0.0.0.0:8080 --store ci
  runlog serve --allow-delete`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			token, err := serveToken(tokenFile)
			if err != nil {
				return err
			}
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				return fmt.Errorf("--addr %q: want HOST:PORT, such as 127.0.0.1:8080", addr)
			}
			loopback := isLoopback(host)
			if token == "" && !loopback && !insecure {
				return fmt.Errorf("--addr %s is not a loopback address and no token is set: anyone who can reach it could read (and delete) logs; "+
					"set --token-file FILE or $RUNLOG_SERVE_TOKEN, or pass --insecure-no-auth behind a proxy that authenticates", addr)
			}
			f, err := openFetcher(cmd, store)
			if err != nil {
				return err
			}
			name := store
			if name == "" {
				name = "default"
			}
			opts := serve.Options{Token: token, AllowDelete: allowDelete, Name: name, Location: time.Local,
				Logger: slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))}
			if token == "" && loopback {
				opts.AllowedHosts = []string{"localhost", "127.0.0.1", "::1", host}
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return err
			}
			srv := &http.Server{
				Handler:           serve.New(f, opts),
				ReadHeaderTimeout: 10 * time.Second,
				ReadTimeout:       30 * time.Second,
				IdleTimeout:       2 * time.Minute,
				MaxHeaderBytes:    16 << 10,
				// No WriteTimeout: live tails and downloads last; JSON
				// requests are bounded by serve.Options.Timeout.
			}
			auth := "no token"
			if token != "" {
				auth = "bearer token required"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "runlog serve: http://%s/ (%s, store %s)\n", ln.Addr(), auth, name)
			if addrFile != "" {
				if err := os.WriteFile(addrFile, []byte(ln.Addr().String()+"\n"), 0o644); err != nil {
					ln.Close()
					return err
				}
			}
			done := make(chan error, 1)
			go func() { done <- srv.Serve(ln) }()
			select {
			case err := <-done:
				return err
			case <-cmd.Context().Done():
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
				return err
			}
			srv.Close() // live tails do not end by themselves
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:8080", "address to listen on, HOST:PORT (port 0: any free port)")
	f.StringVar(&store, "store", "", "log store to read: a registered one, or local, the embedded one (default: the default store, else local)")
	f.StringVar(&addrFile, "addr-file", "", "write the address listened on (HOST:PORT) to this file once listening, for scripts using port 0")
	f.StringVar(&tokenFile, "token-file", "", "file holding the bearer token every API request must carry (default: $RUNLOG_SERVE_TOKEN)")
	f.BoolVar(&insecure, "insecure-no-auth", false, "allow listening on a non-loopback address without a token")
	f.BoolVar(&allowDelete, "allow-delete", false, "without a token, allow DELETE of runs (with a token, DELETE needs the token)")
	return cmd
}

// serveToken reads the token from file, else $RUNLOG_SERVE_TOKEN.
func serveToken(file string) (string, error) {
	tok := os.Getenv("RUNLOG_SERVE_TOKEN")
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("--token-file: %w", err)
		}
		if tok = strings.TrimSpace(string(b)); tok == "" {
			return "", fmt.Errorf("--token-file %s is empty; put the token in it", file)
		}
	}
	if strings.ContainsAny(tok, " \t\r\n") {
		return "", fmt.Errorf("the token holds white space; use letters, digits and punctuation only")
	}
	return tok, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
