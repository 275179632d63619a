package main

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkresource "go.opentelemetry.io/otel/sdk/resource"

	"github.com/runlog/runlog/internal/framing"
	"github.com/runlog/runlog/internal/itest"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"runlog": main, "otlpemit": otlpEmit})
}

// otlpEmit is the scripts' foreign writer: `otlpemit URL [res:K=V]...
// [rec:K=V]... MESSAGE...` sends one INFO record per MESSAGE, a
// millisecond apart, with the raw OpenTelemetry SDK (sdk/log, otlploghttp)
// to the OTLP/HTTP logs URL, under a resource of the res: attributes, each
// record with the rec: ones. runlog's write path plays no part.
func otlpEmit() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: otlpemit URL [res:K=V]... [rec:K=V]... MESSAGE...")
		os.Exit(2)
	}
	var res, rec []attribute.KeyValue
	var msgs []string
	for _, a := range os.Args[2:] {
		kind, kv, _ := strings.Cut(a, ":")
		k, v, ok := strings.Cut(kv, "=")
		switch {
		case kind == "res" && ok:
			res = append(res, attribute.String(k, v))
		case kind == "rec" && ok:
			rec = append(rec, attribute.String(k, v))
		default:
			msgs = append(msgs, a)
		}
	}
	ctx := context.Background()
	exp, err := otlploghttp.New(ctx, otlploghttp.WithEndpointURL(os.Args[1]))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	p := sdklog.NewLoggerProvider(sdklog.WithResource(sdkresource.NewSchemaless(res...)), sdklog.WithProcessor(sdklog.NewBatchProcessor(exp)))
	t0 := time.Now()
	for i, m := range msgs {
		var r otellog.Record
		r.SetTimestamp(t0.Add(time.Duration(i) * time.Millisecond))
		r.SetSeverity(otellog.SeverityInfo)
		r.SetSeverityText("INFO")
		r.SetBody(attribute.StringValue(m))
		r.AddAttributes(rec...)
		p.Logger("otlpemit").Emit(ctx, r)
	}
	if err := p.Shutdown(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// TestScripts runs the CLI scripts in testdata/script: each is a shell-like
// script with its expected output, run in a fresh directory with its own
// config file and data directory.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:       "testdata/script",
		Condition: condition,
		Cmds:      map[string]func(*testscript.TestScript, bool, []string){"storetext": storeText},
		Setup: func(env *testscript.Env) error {
			env.Setenv("RUNLOG_CONFIG", env.WorkDir+"/config/stores.json")
			env.Setenv("RUNLOG_DATA_DIR", env.WorkDir+"/data")
			env.Setenv("NO_COLOR", "1")
			return nil
		},
	})
}

// storeText prints the text of every file under the directory given,
// zstd frames decompressed (the local store's records), so that a script
// can check what is on disk: `storetext $RUNLOG_DATA_DIR` then `! stdout
// SECRET`.
func storeText(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: storetext DIR")
	}
	var out []byte
	err := filepath.WalkDir(ts.MkAbs(args[0]), func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if framing.Sniff(b) == framing.Zstd {
			if b, err = framing.Decompress(nil, b); err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
		}
		out = append(out, b...)
		return nil
	})
	ts.Check(err)
	ts.Stdout().Write(out)
}

// condition adds [root]: the tests run as root, who can chown.
func condition(cond string) (bool, error) {
	if cond == "root" {
		return os.Geteuid() == 0, nil
	}
	return false, fmt.Errorf("unknown condition %q", cond)
}

// TestScriptsVictoriaLogs runs the scripts in testdata/victorialogs
// against a real VictoriaLogs and a collector feeding it, started once for
// all of them; $VL_URL and $OTLP_ENDPOINT name them. The scripts also have
// the Node.js step's commands (node_test.go).
func TestScriptsVictoriaLogs(t *testing.T) {
	vl := itest.StartVictoriaLogs(t)
	col := itest.StartCollector(t, vl.OTLPEndpoint())
	testscript.Run(t, testscript.Params{
		Dir:  "testdata/victorialogs",
		Cmds: nodeCmds,
		Condition: func(cond string) (bool, error) {
			if cond == "node" {
				return nodeCondition()
			}
			return condition(cond)
		},
		Setup: func(env *testscript.Env) error {
			env.Setenv("RUNLOG_CONFIG", env.WorkDir+"/config/stores.json")
			env.Setenv("RUNLOG_DATA_DIR", env.WorkDir+"/data")
			env.Setenv("RUNLOG_SPOOL_DIR", env.WorkDir+"/spool")
			env.Setenv("NO_COLOR", "1")
			env.Setenv("VL_URL", vl.URL)
			env.Setenv("OTLP_ENDPOINT", col.OTLPEndpoint)
			return nil
		},
	})
}
