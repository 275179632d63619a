package flavors

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/otelstore"
	"github.com/runlog/runlog/query/victorialogs"
)

func init() {
	runlog.Register(runlog.Flavor{
		Name: "victorialogs",
		Doc: "Reads back from VictoriaLogs (single node or cluster) and writes over OTLP/HTTP: to an OpenTelemetry Collector that feeds it (set endpoint), " +
			"or, with no endpoint and no OTEL_EXPORTER_OTLP_* variable, straight to VictoriaLogs' own OTLP endpoint with the tenant and credentials.",
		Keys: VictoriaLogsKeys,
		Open: func(ctx context.Context, c runlog.Config) (runlog.LogStore, error) {
			return OpenVictoriaLogs(ctx, c)
		},
		OpenFetcher: func(_ context.Context, c runlog.Config) (runlog.Fetcher, error) {
			client, _, _, err := newVictoriaLogs(c)
			if err != nil {
				return nil, err
			}
			return client, nil
		},
	})
}

// VictoriaLogsKeys are the configuration keys of the victorialogs flavor.
var VictoriaLogsKeys = slices.Concat([]runlog.ConfigKey{
	{Name: "url", Type: runlog.TypeURL, Doc: "VictoriaLogs base URL, such as http://127.0.0.1:9428 (for a cluster, the node serving /select and /insert); default $RUNLOG_VICTORIALOGS_URL"},
	{Name: "account_id", Type: runlog.TypeInt, Doc: "tenant AccountID, for reads and for direct writes; default 0"},
	{Name: "project_id", Type: runlog.TypeInt, Doc: "tenant ProjectID, for reads and for direct writes; default 0"},
	{Name: "username", Type: runlog.TypeString, Doc: "basic auth user of VictoriaLogs (or the proxy in front of it)"},
	{Name: "password", Type: runlog.TypeString, Secret: true, Doc: "basic auth password"},
	{Name: "bearer_token", Type: runlog.TypeString, Secret: true, Doc: "bearer token"},
	{Name: "query_ca_file", Type: runlog.TypeString, Doc: "PEM CA certificate to verify VictoriaLogs"},
	{Name: "query_insecure_skip_verify", Type: runlog.TypeBool, Doc: "do not verify VictoriaLogs' TLS certificate"},
	{Name: "query_timeout", Type: runlog.TypeDuration, Default: "30s", Doc: "timeout of one VictoriaLogs request"},
	conventionKey,
}, exportKeys)

// OpenVictoriaLogs opens a victorialogs-flavor store from a validated
// configuration.
func OpenVictoriaLogs(_ context.Context, c runlog.Config) (*otelstore.Store, error) {
	client, account, project, err := newVictoriaLogs(c)
	if err != nil {
		return nil, err
	}
	// Written straight to VictoriaLogs, records carry its tenant and
	// credentials; through a collector, the collector's own config does.
	direct := map[string]string{}
	if account != 0 || project != 0 {
		direct["AccountID"] = strconv.FormatUint(uint64(account), 10)
		direct["ProjectID"] = strconv.FormatUint(uint64(project), 10)
	}
	switch {
	case c.String("bearer_token") != "":
		direct["Authorization"] = "Bearer " + c.String("bearer_token")
	case c.String("username") != "":
		direct["Authorization"] = "Basic " + base64.StdEncoding.EncodeToString([]byte(c.String("username")+":"+c.String("password")))
	}
	opts, err := exportOptions(c, exportSettings{name: "victorialogs", keys: VictoriaLogsKeys,
		defaultEndpoint: strings.TrimRight(client.URL(), "/") + "/insert/opentelemetry", directHeaders: direct})
	if err != nil {
		return nil, err
	}
	opts.Fetcher = client
	opts.Name = "victorialogs " + client.URL()
	s, err := otelstore.New(opts)
	if err != nil {
		return nil, fmt.Errorf("runlog: open victorialogs store: %w", err)
	}
	return s, nil
}

// newVictoriaLogs returns the VictoriaLogs client of a victorialogs-flavor
// configuration, and its tenant.
func newVictoriaLogs(c runlog.Config) (client *victorialogs.Client, account, project uint32, err error) {
	base := c.String("url")
	if base == "" {
		base = os.Getenv("RUNLOG_VICTORIALOGS_URL")
	}
	if base == "" {
		return nil, 0, 0, runlog.Invalidf("victorialogs: no url; set the url key (such as --url=http://127.0.0.1:9428) or RUNLOG_VICTORIALOGS_URL")
	}
	tenant := func(key string) (uint32, error) {
		n := c.Int(key)
		if n < 0 || n > 1<<32-1 {
			return 0, runlog.Invalidf("victorialogs: %s %d is out of range; use 0 to %d", key, n, uint32(1<<32-1))
		}
		return uint32(n), nil
	}
	if account, err = tenant("account_id"); err != nil {
		return nil, 0, 0, err
	}
	if project, err = tenant("project_id"); err != nil {
		return nil, 0, 0, err
	}
	conv, err := convention(c)
	if err != nil {
		return nil, 0, 0, err
	}
	client, err = victorialogs.New(victorialogs.Config{
		URL: base, AccountID: account, ProjectID: project, Convention: conv,
		Username: c.String("username"), Password: c.String("password"), BearerToken: c.String("bearer_token"),
		CAFile: c.String("query_ca_file"), InsecureSkipVerify: c.Bool("query_insecure_skip_verify"),
		Timeout: c.Duration("query_timeout"),
	})
	if err != nil {
		return nil, 0, 0, err
	}
	return client, account, project, nil
}
