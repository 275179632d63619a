package loki

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/internal/httpconf"
	"github.com/runlog/runlog/resource"
)

// Config configures a Client. The zero value of every field but URL is a
// working default.
type Config struct {
	// URL is Loki's base URL, such as http://127.0.0.1:3100. Required.
	URL string
	// TenantID is sent as X-Scope-OrgID, for multi-tenant Loki.
	TenantID string
	// Username and Password enable basic auth; BearerToken sends
	// "Authorization: Bearer ...". Use one or the other.
	Username, Password string
	BearerToken        string
	// CAFile verifies the server with this CA; CertFile and KeyFile give a
	// client certificate. InsecureSkipVerify disables verification.
	CAFile, CertFile, KeyFile string
	InsecureSkipVerify        bool
	// Timeout bounds each HTTP request. Default 30s.
	Timeout time.Duration
	// Services lists the service.name values (Loki's service_name index
	// label) of the writers whose records a run may hold. A run spans
	// services (a Go step, a Node step, a service a step called), so the
	// default is every service, unless the run id is an index label or the
	// convention names its writers' service (zenml). See doc.go for what
	// each costs.
	Services []string
	// ServiceName is a single Services entry, kept for configurations
	// written before Services: when Services is empty, a non-empty
	// ServiceName reads only that service.
	ServiceName string
	// IndexLabels lists the attributes Loki was configured to index (such
	// as cicd.pipeline.run.id, in Loki's limits_config
	// otlp_config.resource_attributes); filters on them go into the stream
	// selector. Others are matched as structured metadata.
	IndexLabels []string
	// Convention names the attributes that say which run, step and source
	// a record belongs to; the zero value is resource.CICD.
	Convention resource.Convention
	// MaxEntries is Loki's max_entries_limit_per_query. Default 5000.
	MaxEntries int
	// Parallelism is how many time windows are queried at once. Default 4.
	Parallelism int
	// MaxLookback is how far back a run's newest entry is looked for when
	// the query gives no Start. Default 30 days (Loki's usual retention).
	MaxLookback time.Duration
	// MaxRunDuration is how long before its newest entry a run's oldest is
	// looked for. Default 7 days.
	MaxRunDuration time.Duration
	// HTTPClient replaces the client built from the TLS settings.
	HTTPClient *http.Client
}

// Client reads runlog entries from Loki. It is safe for concurrent use.
type Client struct {
	cfg   Config
	base  *url.URL
	http  *http.Client
	index map[string]bool
	conv  resource.Convention // cfg.Convention or resource.CICD, dotted names
	// mapping is conv with Loki's names, for entries (nil: resource.CICD,
	// whose names resource.FromLoki restores).
	mapping  *resource.Convention
	services []string
}

var _ runlog.Fetcher = (*Client)(nil)

// New returns a Client for the Loki at cfg.URL. It does not contact Loki.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, runlog.Invalidf("loki: URL %q is not an http(s) URL such as http://127.0.0.1:3100", runlog.RedactURL(cfg.URL))
	}
	if u.User != nil {
		return nil, runlog.Invalidf("loki: URL %s carries credentials; set username and password (or bearer_token) instead", runlog.RedactURL(cfg.URL))
	}
	if cfg.BearerToken != "" && cfg.Username != "" {
		return nil, runlog.Invalidf("loki: both basic auth (username) and a bearer token are set; use one")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	conv := cfg.Convention.OrDefault()
	if err := conv.Validate(); err != nil {
		return nil, fmt.Errorf("loki: %w", err)
	}
	if cfg.MaxEntries <= 0 {
		cfg.MaxEntries = 5000
	}
	if cfg.Parallelism <= 0 {
		cfg.Parallelism = 4
	}
	if cfg.MaxLookback <= 0 {
		cfg.MaxLookback = 30 * 24 * time.Hour
	}
	if cfg.MaxRunDuration <= 0 {
		cfg.MaxRunDuration = 7 * 24 * time.Hour
	}
	for _, s := range cfg.Services {
		if s == "" || !utf8.ValidString(s) {
			return nil, runlog.Invalidf("loki: service %q is not a service.name (empty or not UTF-8)", s)
		}
	}
	c := &Client{cfg: cfg, base: u, index: map[string]bool{}, conv: conv, services: cfg.Services}
	if len(c.services) == 0 && cfg.ServiceName != "" {
		c.services = []string{cfg.ServiceName}
	}
	if m := resource.ReaderOf(conv); m != nil {
		for _, name := range []*string{&m.RunID, &m.StepID, &m.Source, &m.StepName, &m.Attempt, &m.Stream} {
			if *name != "" {
				*name = resource.Loki(*name)
			}
		}
		c.mapping = m
	}
	for _, l := range cfg.IndexLabels {
		c.index[l] = true
	}
	c.http = cfg.HTTPClient
	if c.http == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = cfg.Parallelism * 2
		if tr.TLSClientConfig, err = httpconf.TLSConfig(cfg.CAFile, cfg.CertFile, cfg.KeyFile, cfg.InsecureSkipVerify); err != nil {
			return nil, err
		}
		c.http = &http.Client{Transport: tr, CheckRedirect: httpconf.SameOrigin}
	}
	return c, nil
}

// URL returns the base URL of the Loki the client reads.
func (c *Client) URL() string { return c.base.String() }

// get runs a GET against Loki and returns the answer's body, mapping
// failures to runlog's error kinds.
func (c *Client) get(ctx context.Context, path string, params url.Values) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	u := *c.base
	u.Path = strings.TrimRight(u.Path, "/") + path
	u.RawQuery = params.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, &runlog.Error{Kind: runlog.ErrInvalid, Op: "fetch", Store: c.URL(), Err: err}
	}
	req.Header.Set("X-Loki-Response-Encoding-Flags", "categorize-labels")
	req.Header.Set("Accept", "application/json")
	c.identify(req)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.transportError(ctx, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		return nil, c.statusError(resp.StatusCode, httpconf.Clean(strings.TrimSpace(string(body)), 512))
	}
	// An answer holds at most MaxEntries lines of at most a chunk (64 KiB)
	// each, with their labels; one far larger is not what was asked for,
	// and is not read whole into memory.
	most := max(int64(c.cfg.MaxEntries)*256<<10, 64<<20)
	body, err := io.ReadAll(io.LimitReader(resp.Body, most+1))
	if err != nil {
		return nil, c.transportError(ctx, err)
	}
	if int64(len(body)) > most {
		return nil, &runlog.Error{Kind: runlog.ErrUnavailable, Op: "fetch", Store: c.URL(),
			Err:  fmt.Errorf("the answer to %s is larger than %d MiB, more than %d entries can take", path, most>>20, c.cfg.MaxEntries),
			Hint: "check that the URL is a Loki and that nothing between rewrites its answers"}
	}
	return body, nil
}

func (c *Client) decodeError(err error) error {
	return &runlog.Error{Kind: runlog.ErrUnavailable, Op: "fetch", Store: c.URL(),
		Err: err, Hint: "is this URL a Loki?"}
}

func (c *Client) transportError(ctx context.Context, err error) error {
	e := &runlog.Error{Kind: runlog.ErrUnavailable, Op: "fetch", Store: c.URL(), Err: err}
	var op *net.OpError
	switch {
	case errors.Is(err, context.DeadlineExceeded) || ctx.Err() == context.DeadlineExceeded:
		e.Hint = fmt.Sprintf("Loki did not answer within %s; check that it runs, or raise the timeout", c.cfg.Timeout)
	case errors.As(err, &op) && op.Op == "dial":
		e.Hint = "cannot connect: check that Loki runs and that the URL is right"
	default:
		e.Hint = "check that Loki runs and is reachable"
	}
	return e
}

func (c *Client) statusError(code int, body string) error {
	e := &runlog.Error{Op: "fetch", Store: c.URL(), Err: fmt.Errorf("HTTP %d: %s", code, body)}
	switch {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		e.Kind = runlog.ErrUnauthorized
		e.Hint = "check the credentials (username/password or bearer token) and the tenant id"
	case code == http.StatusTooManyRequests:
		e.Kind = runlog.ErrOverLimit
		e.Hint = "Loki is rate limiting queries; retry later or narrow the query"
	case code == http.StatusBadRequest && strings.Contains(body, "limit"):
		e.Kind = runlog.ErrOverLimit
		e.Hint = "the query exceeds a Loki limit; narrow the time range, or set max_entries to Loki's max_entries_limit_per_query"
	case code == http.StatusBadRequest:
		e.Kind = runlog.ErrInvalid
		e.Hint = "Loki rejected the query"
	case code == http.StatusNotFound:
		e.Kind = runlog.ErrUnavailable
		e.Hint = "no Loki API at this URL; give Loki's base URL, such as http://127.0.0.1:3100"
	default:
		e.Kind = runlog.ErrUnavailable
		e.Hint = "Loki failed; retry later and check its logs"
	}
	return e
}

// matrixResponse is the answer of query_range for a metric query.
type matrixResponse struct {
	Data struct {
		Result []struct {
			Values [][2]any `json:"values"`
		} `json:"result"`
	} `json:"data"`
}

// lokiOwn are the structured metadata Loki adds from OTLP fields, which map
// to LogEntry fields or are dropped, never attributes.
var lokiOwn = map[string]bool{
	"observed_timestamp": true, "severity_text": true, "severity_number": true, "scope_name": true,
	"scope_version": true, "flags": true, "trace_id": true, "span_id": true,
	"dropped_attributes_count": true, "detected_level": true, "service_name": true,
}

// AttributeKey returns the key under which an attribute logged as key comes
// back from Loki: runlog's own and the semantic-convention keys it knows
// keep their dots; others take Loki's form ("g.a" becomes "g_a"), which
// cannot be mapped back.
func AttributeKey(key string) string {
	if l := resource.Loki(key); resource.FromLoki(l) == key {
		return key
	} else {
		return l
	}
}

func toEntry(ts int64, line string, meta [][2]string, conv *resource.Convention) runlog.LogEntry {
	e := runlog.LogEntry{Message: line, Time: time.Unix(0, ts).UTC()}
	ent := resource.Entry{LogEntry: &e, Convention: conv}
	for _, kv := range meta {
		k, val := kv[0], kv[1]
		switch k {
		case "severity_number":
			n, _ := strconv.Atoi(val)
			e.Level = runlog.Level(n)
		case "scope_name":
			e.Name = val
		case "trace_id":
			e.TraceID = val
		case "span_id":
			e.SpanID = val
		}
		if !lokiOwn[k] {
			ent.Set(resource.FromLoki(k), val)
		}
	}
	ent.Finish()
	return e
}

// identify adds the client's tenant and credentials to req: every
// request to Loki carries them.
func (c *Client) identify(req *http.Request) {
	if c.cfg.TenantID != "" {
		req.Header.Set("X-Scope-OrgID", c.cfg.TenantID)
	}
	if c.cfg.BearerToken != "" {
		req.Header.Set("Authorization", "Bearer "+c.cfg.BearerToken)
	} else if c.cfg.Username != "" {
		req.SetBasicAuth(c.cfg.Username, c.cfg.Password)
	}
}
