package flavors

import (
	"context"
	"encoding/base64"
	"maps"
	"net/url"
	"os"
	"path"
	"regexp"
	"strings"

	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/internal/httpconf"
	"github.com/runlog/runlog/otelstore"
)

// redactKeys are the keys of every built-in flavor that say which secrets
// are replaced in records before they are written (otelstore.Redact).
var redactKeys = []runlog.ConfigKey{
	{Name: "redact", Type: runlog.TypeString, Secret: true, Doc: "secret values replaced by **** in messages and attributes before they are written, comma-separated (the values of the flavor's own secret keys always are)"},
	{Name: "redact_env", Type: runlog.TypeString, Doc: "names of environment variables whose values are replaced likewise, comma-separated"},
	{Name: "redact_pattern", Type: runlog.TypeString, Doc: "a regular expression (RE2) whose matches are replaced likewise, such as ghp_[A-Za-z0-9]{36}"},
}

// exportKeys are the configuration keys of every flavor that writes over
// OTLP/HTTP: where to, how, and what becomes of records the receiver does
// not take.
var exportKeys = []runlog.ConfigKey{
	{Name: "endpoint", Type: runlog.TypeURL, Doc: "base URL of the OTLP/HTTP receiver, such as http://127.0.0.1:4318 (/v1/logs is appended); default $OTEL_EXPORTER_OTLP_LOGS_ENDPOINT, $OTEL_EXPORTER_OTLP_ENDPOINT, else the flavor's own (otel: the SDK's https://localhost:4318; victorialogs: VictoriaLogs' <url>/insert/opentelemetry)"},
	{Name: "headers", Type: runlog.TypeString, Secret: true, Doc: "extra export headers, k=v,k2=v2; default $OTEL_EXPORTER_OTLP_LOGS_HEADERS / $OTEL_EXPORTER_OTLP_HEADERS"},
	{Name: "insecure", Type: runlog.TypeBool, Doc: "plain HTTP even for an endpoint without scheme; implied by http:// endpoints"},
	{Name: "ca_file", Type: runlog.TypeString, Doc: "PEM CA certificate to verify the receiver (OTEL_EXPORTER_OTLP_CERTIFICATE)"},
	{Name: "cert_file", Type: runlog.TypeString, Doc: "PEM client certificate (OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE)"},
	{Name: "key_file", Type: runlog.TypeString, Doc: "PEM client key (OTEL_EXPORTER_OTLP_CLIENT_KEY)"},
	{Name: "compression", Type: runlog.TypeString, Doc: "gzip or none (OTEL_EXPORTER_OTLP_COMPRESSION)"},
	{Name: "timeout", Type: runlog.TypeDuration, Doc: "timeout of one export request (OTEL_EXPORTER_OTLP_TIMEOUT); default 10s"},
	{Name: "service_name", Type: runlog.TypeString, Default: "runlog", Doc: "service.name resource attribute"},
	{Name: "resource_attributes", Type: runlog.TypeString, Doc: "extra resource attributes, k=v,k2=v2"},
	{Name: "level", Type: runlog.TypeString, Doc: "lowest level stored; default $RUNLOG_LEVEL, else info"},
	{Name: "batch_size", Type: runlog.TypeInt, Doc: "records per export; default 1024"},
	{Name: "queue_size", Type: runlog.TypeInt, Doc: "records held in memory per activation before logging blocks; default 4096"},
	{Name: "export_interval", Type: runlog.TypeDuration, Doc: "longest a record waits before export; default 1s"},
	{Name: "overflow", Type: runlog.TypeString, Default: "block", Doc: "when queue_size records wait: block (logging waits, nothing lost) or drop (dropped and counted)"},
	{Name: "spool", Type: runlog.TypeBool, Default: "true", Doc: "keep records the receiver does not accept in a disk spool and replay them (docs/reliability.md)"},
	{Name: "spool_dir", Type: runlog.TypeString, Doc: "spool directory; default one per endpoint under $RUNLOG_SPOOL_DIR, else under runlog/spool in the user's cache directory"},
	{Name: "spool_sync", Type: runlog.TypeString, Default: "always", Doc: "fsync policy of the spool: always (survives power loss) or never (survives the process only)"},
	{Name: "spool_max_bytes", Type: runlog.TypeInt, Default: "1073741824", Doc: "most bytes in the spool directory; records beyond are dropped and counted"},
	{Name: "spool_max_age", Type: runlog.TypeDuration, Default: "168h", Doc: "spool files older than this are removed unreplayed"},
	redactKeys[0], redactKeys[1], redactKeys[2],
	{Name: "visible_timeout", Type: runlog.TypeDuration, Default: "10s", Doc: "after Deactivate (or runlog exec) delivered every record, wait up to this long until the backend returns them, so that a read right after sees the whole step; 0s does not wait"},
}

// redaction reads the redact keys of c, and adds the values of the
// flavor's secret keys (keys): what a store holds as a secret is never
// exported in a message either. Header values count one by one, and a
// basic-auth pair also as the base64 the Authorization header carries.
func redaction(flavor string, keys []runlog.ConfigKey, c runlog.Config) (otelstore.Redact, error) {
	var r otelstore.Redact
	for _, k := range keys {
		v := c.String(k.Name)
		if !k.Secret || v == "" {
			continue
		}
		switch k.Name {
		case "headers":
			m, err := parsePairs(flavor, k.Name, v)
			if err != nil {
				return r, err
			}
			for _, hv := range m {
				r.Values = append(r.Values, hv)
				if _, tok, ok := strings.Cut(hv, " "); ok { // "Bearer tok", "Basic b64"
					r.Values = append(r.Values, tok)
				}
			}
		case "redact":
			for p := range strings.SplitSeq(v, ",") {
				r.Values = append(r.Values, strings.TrimSpace(p))
			}
		default:
			r.Values = append(r.Values, v)
		}
	}
	if u, p := c.String("username"), c.String("password"); u != "" && p != "" {
		r.Values = append(r.Values, base64.StdEncoding.EncodeToString([]byte(u+":"+p)))
	}
	for n := range strings.SplitSeq(c.String("redact_env"), ",") {
		if n = strings.TrimSpace(n); n != "" {
			r.Env = append(r.Env, n)
		}
	}
	if p := c.String("redact_pattern"); p != "" {
		re, err := regexp.Compile(p)
		if err != nil {
			return r, runlog.Invalidf("%s: redact_pattern %q is not a regular expression: %v", flavor, p, err)
		}
		r.Patterns = append(r.Patterns, re)
	}
	return r, nil
}

// exportSettings are what a flavor adds to the export keys: where to write
// when no endpoint is configured, and the headers that go with exports to
// that default endpoint only (the backend's tenant and credentials, which
// must not go to a collector the user configured instead).
type exportSettings struct {
	name            string             // flavor, for errors and the spool directory
	keys            []runlog.ConfigKey // the flavor's keys, for the values of its secret ones
	defaultEndpoint string             // used when neither the key nor an OTEL_* variable is set
	directHeaders   map[string]string
}

// exportOptions reads the export keys of c into store options.
func exportOptions(c runlog.Config, set exportSettings) (otelstore.Options, error) {
	var expOpts []otlploghttp.Option
	for _, env := range []string{"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"} {
		// The SDK reads these itself; credentials in them would end up in
		// its error messages.
		if v := os.Getenv(env); runlog.RedactURL(v) != v {
			return otelstore.Options{}, runlog.Invalidf("%s: %s (%s) carries credentials; pass them in OTEL_EXPORTER_OTLP_HEADERS instead", set.name, env, runlog.RedactURL(v))
		}
	}
	ep, direct := c.String("endpoint"), false
	if ep == "" && set.defaultEndpoint != "" && os.Getenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT") == "" && os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" {
		ep, direct = set.defaultEndpoint, true
	}
	if ep != "" {
		u, err := url.Parse(ep)
		if err != nil || u.Host == "" {
			return otelstore.Options{}, runlog.Invalidf("%s: endpoint %q is not a URL such as http://127.0.0.1:4318", set.name, httpconf.Clean(runlog.RedactURL(ep), 200))
		}
		if u.User != nil {
			return otelstore.Options{}, runlog.Invalidf("%s: endpoint %s carries credentials; pass them in headers instead", set.name, runlog.RedactURL(ep))
		}
		expOpts = append(expOpts, otlploghttp.WithEndpoint(u.Host), otlploghttp.WithURLPath(path.Join("/", u.Path, "v1/logs")))
		if u.Scheme == "http" {
			expOpts = append(expOpts, otlploghttp.WithInsecure())
		}
	}
	if c.Bool("insecure") {
		expOpts = append(expOpts, otlploghttp.WithInsecure())
	}
	headers := map[string]string{}
	if direct {
		maps.Copy(headers, set.directHeaders)
	}
	if h := c.String("headers"); h != "" {
		m, err := parsePairs(set.name, "headers", h)
		if err != nil {
			return otelstore.Options{}, err
		}
		maps.Copy(headers, m)
	}
	if len(headers) > 0 {
		expOpts = append(expOpts, otlploghttp.WithHeaders(headers))
	}
	switch c.String("compression") {
	case "":
	case "gzip":
		expOpts = append(expOpts, otlploghttp.WithCompression(otlploghttp.GzipCompression))
	case "none":
		expOpts = append(expOpts, otlploghttp.WithCompression(otlploghttp.NoCompression))
	default:
		return otelstore.Options{}, runlog.Invalidf("%s: compression %q; use gzip or none", set.name, c.String("compression"))
	}
	if d := c.Duration("timeout"); d > 0 {
		expOpts = append(expOpts, otlploghttp.WithTimeout(d))
	}
	if c.String("ca_file") != "" || c.String("cert_file") != "" {
		t, err := httpconf.TLSConfig(c.String("ca_file"), c.String("cert_file"), c.String("key_file"), false)
		if err != nil {
			return otelstore.Options{}, err
		}
		expOpts = append(expOpts, otlploghttp.WithTLSClientConfig(t))
	}

	res := map[string]string{}
	if ra := c.String("resource_attributes"); ra != "" {
		m, err := parsePairs(set.name, "resource_attributes", ra)
		if err != nil {
			return otelstore.Options{}, err
		}
		res = m
	}
	res["service.name"] = c.String("service_name")

	opts := otelstore.Options{
		Name:           set.name,
		Resource:       res,
		BatchSize:      c.Int("batch_size"),
		QueueSize:      c.Int("queue_size"),
		ExportInterval: c.Duration("export_interval"),
		Overflow:       otelstore.Overflow(c.String("overflow")),
		NoSpool:        !c.Bool("spool"),
		SpoolDir:       c.String("spool_dir"),
		SpoolSync:      otelstore.SyncPolicy(c.String("spool_sync")),
		SpoolMaxBytes:  int64(c.Int("spool_max_bytes")),
		SpoolMaxAge:    c.Duration("spool_max_age"),
		VisibleTimeout: c.Duration("visible_timeout"),
	}
	if opts.SpoolDir == "" && !opts.NoSpool {
		// One spool per endpoint: a spool is replayed where its store writes.
		target := ep
		for _, env := range []string{"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"} {
			if target == "" {
				target = os.Getenv(env)
			}
		}
		if target == "" {
			target = "http://localhost:4318"
		}
		d, err := otelstore.DefaultSpoolDir(set.name + " " + runlog.RedactURL(target))
		if err != nil {
			return otelstore.Options{}, &runlog.Error{Kind: runlog.ErrInvalid, Op: "open", Store: set.name, Err: err, Hint: "set spool_dir or RUNLOG_SPOOL_DIR"}
		}
		opts.SpoolDir = d
	}
	if l := c.String("level"); l != "" {
		lv, err := runlog.ParseLevel(l)
		if err != nil {
			return otelstore.Options{}, err
		}
		opts.MinLevel = lv
	}
	red, err := redaction(set.name, set.keys, c)
	if err != nil {
		return otelstore.Options{}, err
	}
	opts.Redact = red
	opts.Exporter = func(ctx context.Context, _ *runlog.Activation) (sdklog.Exporter, error) {
		return otlploghttp.New(ctx, expOpts...)
	}
	return opts, nil
}

func parsePairs(flavor, key, s string) (map[string]string, error) {
	m := map[string]string{}
	for p := range strings.SplitSeq(s, ",") {
		k, v, ok := strings.Cut(p, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, runlog.Invalidf("%s: %s wants k=v pairs separated by commas; %q is not one", flavor, key, p)
		}
		m[k] = strings.TrimSpace(v)
	}
	return m, nil
}
