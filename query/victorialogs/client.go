package victorialogs

import (
	"bufio"
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

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/internal/httpconf"
	"github.com/runlog/runlog/resource"
)

// Config configures a Client. The zero value of every field but URL is a
// working default.
type Config struct {
	// URL is VictoriaLogs' base URL, such as http://127.0.0.1:9428; for a
	// cluster, the node that serves /select. Required.
	URL string
	// AccountID and ProjectID select the tenant (headers of the same
	// names). Zero is VictoriaLogs' default tenant.
	AccountID, ProjectID uint32
	// Username and Password enable basic auth; BearerToken sends
	// "Authorization: Bearer ...". Use one or the other.
	Username, Password string
	BearerToken        string
	// CAFile verifies the server with this CA; CertFile and KeyFile give a
	// client certificate. InsecureSkipVerify disables verification.
	CAFile, CertFile, KeyFile string
	InsecureSkipVerify        bool
	// Timeout bounds each HTTP request, the reading of its answer
	// included. Default 30s.
	Timeout time.Duration
	// Compress asks for gzip-compressed answers: less traffic over a slow
	// link, more CPU on both sides. Off by default: VictoriaLogs usually
	// runs near its readers, and a large read is bound by CPU.
	Compress bool
	// HTTPClient replaces the client built from the TLS settings. Its
	// CheckRedirect is left as it is.
	HTTPClient *http.Client
	// Convention names the attributes that say which run, step and source
	// a record belongs to, and where writers put them; the zero value is
	// resource.CICD, in the resource or on the record. A convention whose
	// attributes are in the resource only is read with stream filters
	// (cheapest); otherwise with field filters (see doc.go).
	Convention resource.Convention
}

// Client reads runlog entries from VictoriaLogs. It is safe for concurrent
// use.
type Client struct {
	cfg     Config
	base    *url.URL
	http    *http.Client
	conv    resource.Convention  // cfg.Convention or resource.CICD
	mapping *resource.Convention // what decoding needs of conv; nil: resource.CICD
}

var _ runlog.Fetcher = (*Client)(nil)

// New returns a Client for the VictoriaLogs at cfg.URL. It does not
// contact VictoriaLogs.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, runlog.Invalidf("victorialogs: URL %q is not an http(s) URL such as http://127.0.0.1:9428", httpconf.Clean(runlog.RedactURL(cfg.URL), 200))
	}
	if u.User != nil {
		return nil, runlog.Invalidf("victorialogs: URL %s carries credentials; set username and password (or bearer_token) instead", runlog.RedactURL(cfg.URL))
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, runlog.Invalidf("victorialogs: URL %s has a query or fragment; give the base URL only", runlog.RedactURL(cfg.URL))
	}
	if cfg.BearerToken != "" && cfg.Username != "" {
		return nil, runlog.Invalidf("victorialogs: both basic auth (username) and a bearer token are set; use one")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	conv := cfg.Convention.OrDefault()
	if err := conv.Validate(); err != nil {
		return nil, fmt.Errorf("victorialogs: %w", err)
	}
	c := &Client{cfg: cfg, base: u, http: cfg.HTTPClient, conv: conv, mapping: resource.ReaderOf(conv)}
	if c.http == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		if tr.TLSClientConfig, err = httpconf.TLSConfig(cfg.CAFile, cfg.CertFile, cfg.KeyFile, cfg.InsecureSkipVerify); err != nil {
			return nil, err
		}
		c.http = &http.Client{Transport: tr, CheckRedirect: httpconf.SameOrigin}
	}
	return c, nil
}

// URL returns the base URL of the VictoriaLogs the client reads.
func (c *Client) URL() string { return c.base.String() }

// answer is an open response body of JSON lines. Close it when done.
type answer struct {
	r      *bufio.Reader
	body   io.ReadCloser
	cancel context.CancelFunc
	c      *Client
	ctx    context.Context
}

func (a *answer) Close() {
	a.body.Close()
	a.cancel()
}

// maxLine bounds one line of an answer: a record larger than this is an
// error, not an allocation without end. VictoriaLogs' own default limit
// on a record is far smaller.
const maxLine = 64 << 20

// line returns the next line without its newline, valid until the next
// call, and io.EOF after the last.
func (a *answer) line() ([]byte, error) {
	b, err := a.r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		long := append([]byte(nil), b...)
		for err == bufio.ErrBufferFull {
			if len(long) > maxLine {
				return nil, &runlog.Error{Kind: runlog.ErrOverLimit, Op: "fetch", Store: a.c.URL(),
					Err: fmt.Errorf("a line of the answer is longer than %d MiB", maxLine>>20), Hint: "is this URL a VictoriaLogs?"}
			}
			b, err = a.r.ReadSlice('\n')
			long = append(long, b...)
		}
		b = long
	}
	if err == io.EOF && len(b) > 0 {
		err = nil // a last line without a newline
	}
	if err != nil && err != io.EOF {
		return nil, a.c.transportError(a.ctx, fmt.Errorf("the answer broke off: %w", err))
	}
	if err == io.EOF {
		return nil, io.EOF
	}
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	return b, nil
}

// query runs a LogsQL query and returns its answer, a stream of JSON lines.
func (c *Client) query(ctx context.Context, logsql string) (*answer, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	form := url.Values{"query": {logsql}, "allow_partial_response": {"0"}}
	u := *c.base
	u.Path = strings.TrimRight(u.Path, "/") + "/select/logsql/query"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(form.Encode()))
	if err != nil {
		cancel()
		return nil, &runlog.Error{Kind: runlog.ErrInvalid, Op: "fetch", Store: c.URL(), Err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/x-ndjson, application/json")
	if !c.cfg.Compress {
		req.Header.Set("Accept-Encoding", "identity") // the transport then adds no gzip
	}
	c.identify(req)
	resp, err := c.http.Do(req)
	if err != nil {
		cancel()
		return nil, c.transportError(ctx, err)
	}
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		resp.Body.Close()
		cancel()
		return nil, c.statusError(resp.StatusCode, string(body))
	}
	return &answer{r: bufio.NewReaderSize(resp.Body, 256<<10), body: resp.Body, cancel: cancel, c: c, ctx: ctx}, nil
}

func (c *Client) transportError(ctx context.Context, err error) error {
	e := &runlog.Error{Kind: runlog.ErrUnavailable, Op: "fetch", Store: c.URL(), Err: err}
	var op *net.OpError
	switch {
	case errors.Is(err, httpconf.ErrRedirect):
		e.Hint = "set the URL to where VictoriaLogs really answers"
	case errors.Is(err, context.DeadlineExceeded) || ctx.Err() == context.DeadlineExceeded:
		e.Hint = fmt.Sprintf("VictoriaLogs did not answer within %s; check that it runs, or raise query_timeout", c.cfg.Timeout)
	case errors.Is(err, context.Canceled):
		e.Hint = "the fetch was cancelled"
	case errors.As(err, &op) && op.Op == "dial":
		e.Hint = "cannot connect: check that VictoriaLogs runs and that the URL is right"
	default:
		e.Hint = "check that VictoriaLogs runs and is reachable, then retry"
	}
	return e
}

func (c *Client) statusError(code int, body string) error {
	body = httpconf.Clean(strings.TrimSpace(body), 512)
	e := &runlog.Error{Op: "fetch", Store: c.URL(), Err: fmt.Errorf("HTTP %d: %s", code, body)}
	switch {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		e.Kind = runlog.ErrUnauthorized
		e.Hint = "check the credentials (username/password or bearer token) and the tenant (account_id, project_id)"
	case code == http.StatusTooManyRequests:
		e.Kind = runlog.ErrOverLimit
		e.Hint = "VictoriaLogs is limiting queries; retry later or narrow the query"
	case code == http.StatusBadRequest:
		e.Kind = runlog.ErrInvalid
		e.Hint = "VictoriaLogs rejected the query; is this URL a VictoriaLogs of a version that speaks this LogsQL?"
	case code == http.StatusNotFound:
		e.Kind = runlog.ErrUnavailable
		e.Hint = "no VictoriaLogs query API at this URL; give its base URL, such as http://127.0.0.1:9428 (for a cluster, the select node)"
	case strings.Contains(body, "storage node") || code == http.StatusBadGateway:
		e.Kind = runlog.ErrUnavailable
		e.Hint = "a storage node of the VictoriaLogs cluster is unavailable, so the answer would be partial; retry once it is back"
	default:
		e.Kind = runlog.ErrUnavailable
		e.Hint = "VictoriaLogs failed; retry later and check its logs"
	}
	return e
}

// identify adds the client's tenant and credentials to req: every
// request to VictoriaLogs carries them.
func (c *Client) identify(req *http.Request) {
	if c.cfg.AccountID != 0 || c.cfg.ProjectID != 0 {
		req.Header.Set("AccountID", strconv.FormatUint(uint64(c.cfg.AccountID), 10))
		req.Header.Set("ProjectID", strconv.FormatUint(uint64(c.cfg.ProjectID), 10))
	}
	if c.cfg.BearerToken != "" {
		req.Header.Set("Authorization", "Bearer "+c.cfg.BearerToken)
	} else if c.cfg.Username != "" {
		req.SetBasicAuth(c.cfg.Username, c.cfg.Password)
	}
}
