package serve

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/runlog/runlog"
)

// Options configure the handler New returns. The zero value serves
// without authentication, with the limits below.
type Options struct {
	// Token, if set, is the bearer token every /api/ request must carry
	// ("Authorization: Bearer TOKEN"), compared in constant time. The
	// viewer page at / loads without it and asks for it.
	Token string
	// AllowDelete permits DELETE without a Token. With a Token, DELETE
	// needs the token like every other /api/ request; without one it is
	// refused (403) unless AllowDelete is set.
	AllowDelete bool
	// AllowedHosts, if not empty, are the only Host header values (without
	// port) answered; others get 421. `runlog serve` sets the loopback
	// names when it runs without a token, against DNS rebinding.
	AllowedHosts []string
	// Name names the store in messages, such as "local" or "ci".
	Name string
	// Logger, if set, is told about failed requests (5xx) and streams.
	Logger *slog.Logger
	// Location is the time zone of the text download; nil means UTC.
	Location *time.Location

	// DefaultLimit is the page size of the logs endpoint when no limit is
	// given (runlog.DefaultLimit, 20,000, when zero); MaxLimit the largest
	// honoured (100,000 when zero): a larger limit is capped to it.
	DefaultLimit, MaxLimit int
	// PageSize is the most entries read from the store at once (5,000
	// when zero, at most runlog.MaxPage): what bounds memory however large
	// the limit or download.
	PageSize int
	// MaxQuery is the longest query string accepted (8 KiB when zero).
	MaxQuery int
	// Timeout bounds each JSON request (60 s when zero); streams and
	// downloads are not bounded, they end when the client goes away.
	Timeout time.Duration
	// MaxStreams is the most live tails and downloads at once (64 when
	// zero); more are refused with 429.
	MaxStreams int
	// Poll is how often a live tail asks the store for new entries (500
	// ms when zero); Heartbeat how often an idle one sends a comment line
	// (15 s when zero); Quiet, for a tail of a whole run with no run-level
	// activation, how long after every activation seen has ended it stops
	// (5 s when zero; `runlog logs --follow-quiet`).
	Poll, Heartbeat, Quiet time.Duration
}

func (o *Options) defaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.DefaultLimit, runlog.DefaultLimit)
	def(&o.MaxLimit, 100000)
	def(&o.PageSize, 5000)
	o.PageSize = min(o.PageSize, runlog.MaxPage)
	def(&o.MaxQuery, 8<<10)
	def(&o.MaxStreams, 64)
	dur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	dur(&o.Timeout, 60*time.Second)
	dur(&o.Poll, 500*time.Millisecond)
	dur(&o.Heartbeat, 15*time.Second)
	dur(&o.Quiet, 5*time.Second)
	o.DefaultLimit = min(o.DefaultLimit, o.MaxLimit)
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

type server struct {
	f       runlog.Fetcher
	opts    Options
	token   [32]byte
	streams chan struct{}
	mux     *http.ServeMux
}

// route is one endpoint of the API; openapi.json describes each.
type route struct {
	method, path string
	handle       func(*server, http.ResponseWriter, *http.Request)
	stream       bool // no Timeout
}

var routes = []route{
	{"GET", "/api/v1/runs", (*server).runs, false},
	{"GET", "/api/v1/runs/{run}/steps", (*server).steps, false},
	{"GET", "/api/v1/runs/{run}/logs", (*server).logs, false},
	{"GET", "/api/v1/runs/{run}/logs/stream", (*server).stream, true},
	{"GET", "/api/v1/runs/{run}/logs/download", (*server).download, true},
	{"DELETE", "/api/v1/runs/{run}", (*server).delete, false},
	{"GET", "/api/v1/openapi.json", (*server).openapi, false},
}

//go:embed openapi.json
var openapiJSON []byte

// New returns the API and the viewer over f as an http.Handler. Mount it
// at the root of a server, or under a prefix with http.StripPrefix: the
// viewer uses relative URLs. f may also implement runlog.RunLister (the
// run list) and runlog.Deleter (DELETE); without them those endpoints
// answer 501.
func New(f runlog.Fetcher, opts Options) http.Handler {
	opts.defaults()
	s := &server{f: f, opts: opts, mux: http.NewServeMux(), streams: make(chan struct{}, opts.MaxStreams)}
	if opts.Token != "" {
		s.token = sha256.Sum256([]byte(opts.Token))
	}
	for _, rt := range routes {
		s.mux.HandleFunc(rt.method+" "+rt.path, func(w http.ResponseWriter, r *http.Request) {
			if !rt.stream {
				ctx, cancel := context.WithTimeout(r.Context(), s.opts.Timeout)
				defer cancel()
				r = r.WithContext(ctx)
			}
			rt.handle(s, w, r)
		})
	}
	s.mux.HandleFunc("/api/", s.notFound)
	files := http.FileServerFS(Assets())
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		files.ServeHTTP(w, r)
	})
	return s
}

// Security headers of every answer. The viewer's page holds no inline
// script or style: everything comes from its own files.
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	if len(s.opts.AllowedHosts) > 0 && !s.hostAllowed(r.Host) {
		writeError(w, http.StatusMisdirectedRequest, "invalid", fmt.Sprintf("host %q is not served here", truncate(r.Host, 100)),
			"open the viewer at the address runlog serve printed, such as http://127.0.0.1:8080/")
		return
	}
	if len(r.URL.RawQuery) > s.opts.MaxQuery || len(r.URL.RawPath)+len(r.URL.Path) > s.opts.MaxQuery {
		writeError(w, http.StatusRequestURITooLong, "over_limit", fmt.Sprintf("the URL is longer than %d bytes", s.opts.MaxQuery), "")
		return
	}
	if strings.HasPrefix(r.URL.Path, "/api/") {
		h.Set("Cache-Control", "no-store")
		if s.opts.Token != "" && !s.authorized(r) {
			h.Set("WWW-Authenticate", `Bearer realm="runlog"`)
			writeError(w, http.StatusUnauthorized, "unauthorized", "this server needs a bearer token",
				"send the header Authorization: Bearer TOKEN, with the token runlog serve was started with")
			return
		}
	}
	s.mux.ServeHTTP(w, r)
}

func (s *server) authorized(r *http.Request) bool {
	auth := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(auth, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	return subtle.ConstantTimeCompare(got[:], s.token[:]) == 1
}

func (s *server) hostAllowed(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	for _, a := range s.opts.AllowedHosts {
		if strings.EqualFold(a, host) {
			return true
		}
	}
	return false
}

// notFound answers /api/ paths no route serves: 405 when another method
// is served there, else 404; in JSON like every API answer.
func (s *server) notFound(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{"GET", "DELETE"} {
		r2 := r.Clone(r.Context())
		r2.Method = m
		if _, p := s.mux.Handler(r2); p != "/api/" && p != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeError(w, http.StatusMethodNotAllowed, "invalid", fmt.Sprintf("%s is not served at %s", r.Method, r.URL.Path), "use "+strings.Join(allow, " or "))
		return
	}
	writeError(w, http.StatusNotFound, "not_found", "no such endpoint: "+truncate(r.URL.Path, 200), "see /api/v1/openapi.json for the endpoints")
}

func (s *server) openapi(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(openapiJSON)
}

// errorBody is every error answer: {"error": {"kind", "message", "hint"}}.
type errorBody struct {
	Error apiError `json:"error"`
}

type apiError struct {
	Kind    string `json:"kind"`
	Message string `json:"message"`
	Hint    string `json:"hint,omitempty"`
}

func writeError(w http.ResponseWriter, status int, kind, msg, hint string) {
	writeJSON(w, status, errorBody{apiError{kind, msg, hint}})
}

// writeJSON writes v as JSON (HTML-safe, terminal-safe escapes) with
// status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b, _ = json.Marshal(errorBody{apiError{"internal", "encoding the answer: " + err.Error(), ""}})
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(jsonSafe(b), '\n'))
}

// fail answers err by its kind: the typed runlog errors map to
// 400/404/503/502/429, anything else to 500.
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, kind := errStatus(err)
	if r.Context().Err() != nil && errors.Is(err, r.Context().Err()) && !errors.Is(err, context.DeadlineExceeded) {
		return // the client went away
	}
	hint := ""
	var re *runlog.Error
	if errors.As(err, &re) {
		hint = re.Hint
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		hint = fmt.Sprintf("the request took longer than %s; narrow it (step, since, until, a smaller limit)", s.opts.Timeout)
	case status == http.StatusBadGateway:
		hint = "the store refused the server's credentials: fix them in the store's configuration (runlog log-store update)"
	}
	if status >= 500 {
		s.opts.Logger.Warn("serve: request failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	}
	writeError(w, status, kind, err.Error(), hint)
}

func errStatus(err error) (int, string) {
	switch {
	case errors.Is(err, runlog.ErrInvalid):
		return http.StatusBadRequest, "invalid"
	case errors.Is(err, runlog.ErrNotFound):
		return http.StatusNotFound, "not_found"
	case errors.Is(err, runlog.ErrUnauthorized):
		// Not 401: that is this server's own token, which the client has right.
		return http.StatusBadGateway, "unauthorized"
	case errors.Is(err, runlog.ErrOverLimit):
		return http.StatusTooManyRequests, "over_limit"
	case errors.Is(err, runlog.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, "unavailable"
	}
	return http.StatusInternalServerError, "internal"
}

// acquire takes one of the MaxStreams slots, or answers 429.
func (s *server) acquire(w http.ResponseWriter) (release func(), ok bool) {
	select {
	case s.streams <- struct{}{}:
		return func() { <-s.streams }, true
	default:
		writeError(w, http.StatusTooManyRequests, "over_limit", fmt.Sprintf("this server already serves %d live tails and downloads", s.opts.MaxStreams), "retry later")
		return nil, false
	}
}
