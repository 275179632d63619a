package flavors

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"

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
		OpenFetcher: func(_ context.Context, c runlog.Config) (runlog.Fetcher, error) {
			client, err := newLoki(c)
			if err == nil && client == nil {
				err = runlog.Invalidf("otel: no Loki to read from; set the query_url key (such as --query-url=http://127.0.0.1:3100) or RUNLOG_LOKI_URL")
			}
			if err != nil {
				return nil, err
			}
			return client, nil
		},
	})
}

// OTelKeys are the configuration keys of the otel flavor.
var OTelKeys = slices.Concat(exportKeys, []runlog.ConfigKey{
	{Name: "query_url", Type: runlog.TypeURL, Doc: "Loki base URL to fetch from, such as http://127.0.0.1:3100; default $RUNLOG_LOKI_URL"},
	{Name: "tenant_id", Type: runlog.TypeString, Doc: "Loki tenant (X-Scope-OrgID)"},
	{Name: "username", Type: runlog.TypeString, Doc: "Loki basic auth user"},
	{Name: "password", Type: runlog.TypeString, Secret: true, Doc: "Loki basic auth password"},
	{Name: "bearer_token", Type: runlog.TypeString, Secret: true, Doc: "Loki bearer token"},
	{Name: "query_ca_file", Type: runlog.TypeString, Doc: "PEM CA certificate to verify Loki"},
	{Name: "query_insecure_skip_verify", Type: runlog.TypeBool, Doc: "do not verify Loki's TLS certificate"},
	{Name: "query_timeout", Type: runlog.TypeDuration, Default: "30s", Doc: "timeout of one Loki request"},
	{Name: "index_labels", Type: runlog.TypeString, Doc: "attributes Loki indexes besides service.name, comma-separated (e.g. cicd.pipeline.run.id); with the run id indexed, reads select the run's streams across services"},
	{Name: "query_services", Type: runlog.TypeString, Doc: "service.name values a run's records may carry, comma-separated, to narrow reads to their streams; default every service (unless the run id is an index label, or the convention names one, zenml's \"zenml\")"},
	conventionKey,
})

// OpenOTel opens an otel-flavor store from a validated configuration.
func OpenOTel(_ context.Context, c runlog.Config) (*otelstore.Store, error) {
	opts, err := exportOptions(c, exportSettings{name: "otel", keys: OTelKeys})
	if err != nil {
		return nil, err
	}
	client, err := newLoki(c)
	if err != nil {
		return nil, err
	}
	if client != nil {
		opts.Fetcher = client
		opts.Name = "otel (loki " + client.URL() + ")"
	}
	s, err := otelstore.New(opts)
	if err != nil {
		return nil, fmt.Errorf("runlog: open otel store: %w", err)
	}
	return s, nil
}

// newLoki returns the Loki client of an otel-flavor configuration, nil
// when it names no Loki.
func newLoki(c runlog.Config) (*loki.Client, error) {
	queryURL := c.String("query_url")
	if queryURL == "" {
		queryURL = os.Getenv("RUNLOG_LOKI_URL")
	}
	if queryURL == "" {
		return nil, nil
	}
	conv, err := convention(c)
	if err != nil {
		return nil, err
	}
	// service_name is what runlog's own writers set; a run's records may
	// come from other services too, so it does not narrow the reads
	// (query_services does).
	return loki.New(loki.Config{
		URL: queryURL, TenantID: c.String("tenant_id"),
		Username: c.String("username"), Password: c.String("password"), BearerToken: c.String("bearer_token"),
		CAFile: c.String("query_ca_file"), InsecureSkipVerify: c.Bool("query_insecure_skip_verify"),
		Timeout: c.Duration("query_timeout"), IndexLabels: commaList(c.String("index_labels")),
		Services: commaList(c.String("query_services")), Convention: conv,
	})
}

// commaList splits a comma-separated key's value, trimmed, empty items
// left out.
func commaList(s string) []string {
	var out []string
	for l := range strings.SplitSeq(s, ",") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}
