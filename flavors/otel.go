package flavors

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path"
	"strings"

	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/otelstore"
	"github.com/runlog/runlog/query/loki"
)

func init() {
	runlog.Register(runlog.Flavor{
		Name: "otel",
		Doc: "Writes over OTLP/HTTP to an OpenTelemetry Collector (or any OTLP receiver) and reads back from the Grafana Loki the collector feeds. " +
			"Unset export keys fall back to the standard OTEL_EXPORTER_OTLP_LOGS_* / OTEL_EXPORTER_OTLP_* variables, then to the SDK's defaults.",
		Keys: OTelKeys,
		Open: func(ctx context.Context, c runlog.Config) (runlog.LogStore, error) {
			return OpenOTel(ctx, c)
		},
	})
}

// OTelKeys are the configuration keys of the otel flavor.
var OTelKeys = []runlog.ConfigKey{
	{Name: "endpoint", Type: runlog.TypeURL, Doc: "base URL of the OTLP/HTTP receiver, such as http://127.0.0.1:4318 (/v1/logs is appended); default $OTEL_EXPORTER_OTLP_LOGS_ENDPOINT, $OTEL_EXPORTER_OTLP_ENDPOINT, else http://localhost:4318"},
	{Name: "headers", Type: runlog.TypeString, Secret: true, Doc: "extra export headers, k=v,k2=v2; default $OTEL_EXPORTER_OTLP_LOGS_HEADERS / $OTEL_EXPORTER_OTLP_HEADERS"},
	{Name: "insecure", Type: runlog.TypeBool, Doc: "plain HTTP even for an endpoint without scheme; implied by http:// endpoints"},
	{Name: "ca_file", Type: runlog.TypeString, Doc: "PEM CA certificate to verify the receiver (OTEL_EXPORTER_OTLP_CERTIFICATE)"},
	{Name: "cert_file", Type: runlog.TypeString, Doc: "PEM client certificate (OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE)"},
	{Name: "key_file", Type: runlog.TypeString, Doc: "PEM client key (OTEL_EXPORTER_OTLP_CLIENT_KEY)"},
	{Name: "compression", Type: runlog.TypeString, Doc: "gzip or none (OTEL_EXPORTER_OTLP_COMPRESSION)"},
	{Name: "timeout", Type: runlog.TypeDuration, Doc: "timeout of one export request (OTEL_EXPORTER_OTLP_TIMEOUT); default 10s"},
	{Name: "service_name", Type: runlog.TypeString, Default: "runlog", Doc: "service.name resource attribute; Loki indexes it as service_name"},
	{Name: "resource_attributes", Type: runlog.TypeString, Doc: "extra resource attributes, k=v,k2=v2"},
	{Name: "level", Type: runlog.TypeString, Doc: "lowest level stored; default $RUNLOG_LEVEL, else info"},
	{Name: "batch_size", Type: runlog.TypeInt, Doc: "records per export; default 1024"},
	{Name: "queue_size", Type: runlog.TypeInt, Doc: "records held in memory per activation before logging blocks; default 4096"},
	{Name: "export_interval", Type: runlog.TypeDuration, Doc: "longest a record waits before export; default 1s"},
	{Name: "overflow", Type: runlog.TypeString, Default: "block", Doc: "when queue_size records wait: block (logging waits, nothing lost) or drop (dropped and counted)"},
	{Name: "spool", Type: runlog.TypeBool, Default: "true", Doc: "keep records the collector does not accept in a disk spool and replay them (docs/reliability.md)"},
	{Name: "spool_dir", Type: runlog.TypeString, Doc: "spool directory; default one per endpoint under $RUNLOG_SPOOL_DIR, else under runlog/spool in the user's cache directory"},
	{Name: "spool_sync", Type: runlog.TypeString, Default: "always", Doc: "fsync policy of the spool: always (survives power loss) or never (survives the process only)"},
	{Name: "spool_max_bytes", Type: runlog.TypeInt, Default: "1073741824", Doc: "most bytes in the spool directory; records beyond are dropped and counted"},
	{Name: "spool_max_age", Type: runlog.TypeDuration, Default: "168h", Doc: "spool files older than this are removed unreplayed"},
	{Name: "query_url", Type: runlog.TypeURL, Doc: "Loki base URL to fetch from, such as http://127.0.0.1:3100; default $RUNLOG_LOKI_URL"},
	{Name: "tenant_id", Type: runlog.TypeString, Doc: "Loki tenant (X-Scope-OrgID)"},
	{Name: "username", Type: runlog.TypeString, Doc: "Loki basic auth user"},
	{Name: "password", Type: runlog.TypeString, Secret: true, Doc: "Loki basic auth password"},
	{Name: "bearer_token", Type: runlog.TypeString, Secret: true, Doc: "Loki bearer token"},
	{Name: "query_ca_file", Type: runlog.TypeString, Doc: "PEM CA certificate to verify Loki"},
	{Name: "query_insecure_skip_verify", Type: runlog.TypeBool, Doc: "do not verify Loki's TLS certificate"},
	{Name: "query_timeout", Type: runlog.TypeDuration, Default: "30s", Doc: "timeout of one Loki request"},
	{Name: "index_labels", Type: runlog.TypeString, Doc: "attributes Loki indexes besides service.name, comma-separated (e.g. cicd.pipeline.run.id)"},
}

// OpenOTel opens an otel-flavor store from a validated configuration.
func OpenOTel(_ context.Context, c runlog.Config) (*otelstore.Store, error) {
	var expOpts []otlploghttp.Option
	if ep := c.String("endpoint"); ep != "" {
		u, err := url.Parse(ep)
		if err != nil {
			return nil, runlog.Invalidf("otel: endpoint %q: %v", ep, err)
		}
		expOpts = append(expOpts, otlploghttp.WithEndpoint(u.Host), otlploghttp.WithURLPath(path.Join("/", u.Path, "v1/logs")))
		if u.Scheme == "http" {
			expOpts = append(expOpts, otlploghttp.WithInsecure())
		}
	}
	if c.Bool("insecure") {
		expOpts = append(expOpts, otlploghttp.WithInsecure())
	}
	if h := c.String("headers"); h != "" {
		m, err := parsePairs("headers", h)
		if err != nil {
			return nil, err
		}
		expOpts = append(expOpts, otlploghttp.WithHeaders(m))
	}
	switch c.String("compression") {
	case "":
	case "gzip":
		expOpts = append(expOpts, otlploghttp.WithCompression(otlploghttp.GzipCompression))
	case "none":
		expOpts = append(expOpts, otlploghttp.WithCompression(otlploghttp.NoCompression))
	default:
		return nil, runlog.Invalidf("otel: compression %q; use gzip or none", c.String("compression"))
	}
	if d := c.Duration("timeout"); d > 0 {
		expOpts = append(expOpts, otlploghttp.WithTimeout(d))
	}
	if c.String("ca_file") != "" || c.String("cert_file") != "" {
		t, err := loki.TLSConfig(c.String("ca_file"), c.String("cert_file"), c.String("key_file"), false)
		if err != nil {
			return nil, err
		}
		expOpts = append(expOpts, otlploghttp.WithTLSClientConfig(t))
	}

	res := map[string]string{}
	if ra := c.String("resource_attributes"); ra != "" {
		m, err := parsePairs("resource_attributes", ra)
		if err != nil {
			return nil, err
		}
		res = m
	}
	res["service.name"] = c.String("service_name")

	opts := otelstore.Options{
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
	}
	if opts.SpoolDir == "" && !opts.NoSpool {
		// One spool per endpoint: a spool is replayed where its store writes.
		target := c.String("endpoint")
		for _, env := range []string{"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"} {
			if target == "" {
				target = os.Getenv(env)
			}
		}
		if target == "" {
			target = "http://localhost:4318"
		}
		d, err := otelstore.DefaultSpoolDir("otel " + target)
		if err != nil {
			return nil, &runlog.Error{Kind: runlog.ErrInvalid, Op: "open", Store: "otel", Err: err, Hint: "set spool_dir or RUNLOG_SPOOL_DIR"}
		}
		opts.SpoolDir = d
	}
	if l := c.String("level"); l != "" {
		lv, err := runlog.ParseLevel(l)
		if err != nil {
			return nil, err
		}
		opts.MinLevel = lv
	}
	opts.Exporter = func(ctx context.Context, _ *runlog.Activation) (sdklog.Exporter, error) {
		return otlploghttp.New(ctx, expOpts...)
	}
	opts.Name = "otel"
	queryURL := c.String("query_url")
	if queryURL == "" {
		queryURL = os.Getenv("RUNLOG_LOKI_URL")
	}
	if queryURL != "" {
		var labels []string
		for l := range strings.SplitSeq(c.String("index_labels"), ",") {
			if l = strings.TrimSpace(l); l != "" {
				labels = append(labels, l)
			}
		}
		client, err := loki.New(loki.Config{
			URL: queryURL, TenantID: c.String("tenant_id"),
			Username: c.String("username"), Password: c.String("password"), BearerToken: c.String("bearer_token"),
			CAFile: c.String("query_ca_file"), InsecureSkipVerify: c.Bool("query_insecure_skip_verify"),
			Timeout: c.Duration("query_timeout"), ServiceName: c.String("service_name"), IndexLabels: labels,
		})
		if err != nil {
			return nil, err
		}
		opts.Fetcher = client
		opts.Name = "otel (loki " + queryURL + ")"
	}
	s, err := otelstore.New(opts)
	if err != nil {
		return nil, fmt.Errorf("runlog: open otel store: %w", err)
	}
	return s, nil
}

func parsePairs(key, s string) (map[string]string, error) {
	m := map[string]string{}
	for p := range strings.SplitSeq(s, ",") {
		k, v, ok := strings.Cut(p, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, runlog.Invalidf("otel: %s wants k=v pairs separated by commas; %q is not one", key, p)
		}
		m[k] = strings.TrimSpace(v)
	}
	return m, nil
}
