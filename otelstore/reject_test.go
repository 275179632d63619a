package otelstore_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/otelstore"
)

// receiver is an OTLP/HTTP endpoint that answers each request with the
// status status returns (called with the request number, from 1).
func receiver(t *testing.T, status func(n int64) int) (url string, requests *atomic.Int64) {
	t.Helper()
	requests = new(atomic.Int64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		code := status(requests.Add(1))
		if code != http.StatusOK {
			http.Error(w, "invalid batch", code)
			return
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	t.Cleanup(srv.Close)
	return srv.URL, requests
}

func otlpStore(t *testing.T, url, spool string) *otelstore.Store {
	t.Helper()
	s, err := otelstore.New(otelstore.Options{
		Console: slog.DiscardHandler, SpoolDir: spool, BatchSize: 100,
		Exporter: func(ctx context.Context, _ *runlog.Activation) (sdklog.Exporter, error) {
			return otlploghttp.New(ctx, otlploghttp.WithEndpointURL(url+"/v1/logs"), otlploghttp.WithRetry(otlploghttp.RetryConfig{Enabled: false}))
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func lines(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	for sc := bufio.NewScanner(f); sc.Scan(); {
		n++
	}
	return n
}

// TestRejectedBatchSetAside: the real OTLP/HTTP exporter gets a 400 for
// its first batch: that batch is set aside (counted, in a .rejected file,
// in Deactivate's error), and every later batch is delivered instead of
// waiting behind it in the spool.
func TestRejectedBatchSetAside(t *testing.T) {
	url, reqs := receiver(t, func(n int64) int {
		if n == 1 {
			return http.StatusBadRequest
		}
		return http.StatusOK
	})
	spool := t.TempDir()
	s := otlpStore(t, url, spool)
	ctx, err := s.Activate(t.Context(), runlog.Scope{RunID: "poison", StepID: "s"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 { // one batch, refused
		slog.InfoContext(ctx, "first", "i", i)
	}
	if _, err := s.Flush(t.Context()); err != nil {
		t.Fatalf("Flush after a rejected batch = %v; want nil (nothing waits)", err)
	}
	for i := range 250 {
		slog.InfoContext(ctx, "later", "i", i)
	}
	err = s.Deactivate(ctx)
	var de *runlog.DeliveryError
	if !errors.As(err, &de) {
		t.Fatalf("Deactivate = %v; want a DeliveryError", err)
	}
	if de.Rejected != 100 || de.Delivered != 251 || de.Spooled != 0 || de.Dropped != 0 || de.Pending != 0 {
		t.Errorf("DeliveryError = %+v; want 100 rejected, the 250 later records and the end marker delivered, nothing spooled", de)
	}
	if !strings.Contains(err.Error(), "refused 100 records as invalid") || !strings.Contains(err.Error(), "400") {
		t.Errorf("error %q does not say what was refused and why", err)
	}
	if de.RejectedPath == "" || filepath.Dir(de.RejectedPath) != spool || lines(t, de.RejectedPath) != 1 {
		t.Errorf("rejected batch not set aside in the spool directory: path %q", de.RejectedPath)
	}
	if n := reqs.Load(); n < 3 {
		t.Errorf("%d requests; want the refused one and the later batches", n)
	}
	if segs, _ := filepath.Glob(filepath.Join(spool, "*.spool")); len(segs) > 0 {
		for _, p := range segs {
			if fi, _ := os.Stat(p); fi.Size() > 0 {
				t.Errorf("spool segment %s holds records: the rejected batch blocked the rest", p)
			}
		}
	}
}

// TestRejectedOnReplay: records spooled while the backend was down are
// refused as invalid when it is back: runlog flush sets them aside and
// empties the spool, instead of failing on them forever.
func TestRejectedOnReplay(t *testing.T) {
	spool := t.TempDir()
	down, _ := receiver(t, func(int64) int { return http.StatusServiceUnavailable })
	s := otlpStore(t, down, spool)
	ctx, err := s.Activate(t.Context(), runlog.Scope{RunID: "poison-replay"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		slog.InfoContext(ctx, "spooled", "i", i)
	}
	var de *runlog.DeliveryError
	if err := s.Deactivate(ctx); !errors.As(err, &de) || de.Spooled != 11 {
		t.Fatalf("Deactivate with the backend down = %v; want 11 spooled", err)
	}
	invalid, _ := receiver(t, func(int64) int { return http.StatusBadRequest })
	rep, err := otlpStore(t, invalid, spool).Flush(t.Context())
	if err != nil || rep.Rejected != 11 || rep.Remaining != 0 || rep.Segments != 1 {
		t.Fatalf("Flush = %+v, %v; want the 11 records rejected and set aside, no spool file left", rep, err)
	}
	if !strings.Contains(rep.String(), "11 records rejected by the backend") {
		t.Errorf("report %q does not say what was rejected", rep)
	}
	if got, _ := filepath.Glob(filepath.Join(spool, "*.rejected")); len(got) != 1 {
		t.Errorf("rejected files %v; want one", got)
	}
}

// TestRejectedOnOwnReplay: the backend is down for the first batch (it is
// spooled), then refuses it as invalid when the activation replays it:
// the records are counted rejected, not pending, and not as replayed.
func TestRejectedOnOwnReplay(t *testing.T) {
	url, _ := receiver(t, func(n int64) int {
		if n == 1 {
			return http.StatusServiceUnavailable
		}
		return http.StatusBadRequest
	})
	s := otlpStore(t, url, t.TempDir())
	ctx, err := s.Activate(t.Context(), runlog.Scope{RunID: "own-replay"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		slog.InfoContext(ctx, "line", "i", i)
	}
	_, _ = s.Flush(t.Context()) // spools on the 503
	_, _ = s.Flush(t.Context()) // replays: 400
	err = s.Deactivate(ctx)
	var de *runlog.DeliveryError
	if !errors.As(err, &de) || de.Rejected != 11 || de.Pending != 0 || de.Spooled != 0 || de.Delivered != 0 {
		t.Fatalf("Deactivate = %v (%+v); want 11 rejected (10 and the end marker), none pending or spooled", err, de)
	}
	if st := s.Stats(); st.Replayed != 0 || st.Rejected != 11 {
		t.Errorf("Stats = %s; want nothing replayed, 11 rejected", st)
	}
}
