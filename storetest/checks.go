package storetest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/runlog/runlog"
)

func (s *suite) roundTrip() {
	t := s.t
	run := s.run("rt")
	sc := runlog.Scope{RunID: run, StepID: "train", Source: "step", Attempt: 2,
		Attributes: map[string]string{"cicd.pipeline.name": "storetest-pipeline"}}
	before := time.Now().Add(-time.Second)
	ctx := s.activate(s.ctx(), sc)
	var traceID, spanID string
	if s.h.WithSpan != nil {
		ctx, traceID, spanID = s.h.WithSpan(ctx)
	}
	slog.InfoContext(ctx, "hello", "k", "v", "n", 42, slog.Group("g", "a", 1, slog.Group("h", "b", true)))
	_, _, line, _ := runtime.Caller(0)
	slog.DebugContext(ctx, "debugging")
	slog.WarnContext(ctx, "careful", "err", errors.New("boom"))
	s.deactivate(ctx)
	after := time.Now().Add(time.Second)

	es := s.messages(runlog.Query{RunID: run, StepID: "train"}, "hello", "debugging", "careful")
	e := es[0]
	attr := func(k string) string { return e.Attributes[s.h.AttributeKey(k)] }
	want := func(field string, got, want any) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("entry %q: %s = %q; want %q", e.Message, field, fmt.Sprint(got), fmt.Sprint(want))
		}
	}
	want("RunID", e.RunID, run)
	want("StepID", e.StepID, "train")
	want("Source", e.Source, "step")
	want("Attempt", e.Attempt, 2)
	want("Level", es[0].Level, runlog.LevelInfo)
	want("Level", es[1].Level, runlog.LevelDebug)
	want("Level", es[2].Level, runlog.LevelWarn)
	want("ChunkIndex", e.ChunkIndex, 0)
	want("TotalChunks", e.TotalChunks, 1)
	want("Attributes[k]", attr("k"), "v")
	want("Attributes[n]", attr("n"), "42")
	want("Attributes[g.a]", attr("g.a"), "1")
	want("Attributes[g.h.b]", attr("g.h.b"), "true")
	want("Attributes[cicd.pipeline.name]", attr("cicd.pipeline.name"), "storetest-pipeline")
	want("Attributes[exception.message] of the entry logged with an error", es[2].Attributes[s.h.AttributeKey("exception.message")], "boom")
	if e.Time.Before(before) || e.Time.After(after) {
		t.Errorf("entry %q: timestamp %s is outside the time it was logged (%s to %s)", e.Message, e.Time, before, after)
	}
	if e.Filename == "" || filepath.Base(e.Filename) != "checks.go" {
		t.Errorf("entry %q: Filename = %q; want the file of the slog call (.../storetest/checks.go)", e.Message, e.Filename)
	}
	if e.Lineno != line-1 {
		t.Errorf("entry %q: Lineno = %d; want %d, the line of the slog call", e.Message, e.Lineno, line-1)
	}
	want("Module", e.Module, "github.com/runlog/runlog/storetest")
	if e.Name == "" {
		t.Errorf("entry %q: Name (logger name) is empty", e.Message)
	}
	ids := map[string]bool{}
	for i, x := range es {
		if x.ID == "" {
			t.Errorf("entry %q: ID is empty", x.Message)
		}
		ids[x.ID] = true
		if x.Sequence != uint64(i+1) {
			t.Errorf("entry %q: Sequence = %d; want %d (records of an activation are numbered from 1)", x.Message, x.Sequence, i+1)
		}
	}
	if len(ids) != len(es) {
		t.Errorf("ids are not unique: %v", ids)
	}
	if s.h.WithSpan != nil {
		want("TraceID", e.TraceID, traceID)
		want("SpanID", e.SpanID, spanID)
	}
}

func (s *suite) levels() {
	run := s.run("lv")
	ctx := s.activate(s.ctx(), runlog.Scope{RunID: run, StepID: "s"})
	slog.DebugContext(ctx, "d")
	slog.InfoContext(ctx, "i")
	slog.WarnContext(ctx, "w")
	slog.ErrorContext(ctx, "e")
	slog.Log(ctx, slog.LevelError+4, "f")
	s.deactivate(ctx)
	q := runlog.Query{RunID: run}
	s.messages(q, "d", "i", "w", "e", "f")
	q.MinLevel = runlog.LevelWarn
	es := s.messages(q, "w", "e", "f")
	if es[2].Level != runlog.LevelFatal {
		s.t.Errorf("slog.LevelError+4 stored as %s; want FATAL", es[2].Level)
	}
	q.MinLevel = runlog.LevelInfo
	s.messages(q, "i", "w", "e", "f")
}

func (s *suite) nesting() {
	run := s.run("nest")
	before := slog.Default()
	runCtx := s.activate(s.ctx(), runlog.Scope{RunID: run, Source: runlog.SourceOrchestrator})
	slog.Info("run 1")
	stepCtx := s.activate(runCtx, runlog.Scope{RunID: run, StepID: "a"})
	slog.Info("step 1")
	slog.InfoContext(runCtx, "run 2")
	runlog.Logger(stepCtx).Info("step 2")
	s.deactivate(stepCtx)
	slog.Info("run 3")
	s.deactivate(runCtx)
	if slog.Default() != before {
		s.t.Errorf("the default slog logger was not restored after the last Deactivate")
	}
	q := runlog.Query{RunID: run, StepID: "a"}
	s.messages(q, "step 1", "step 2")
	q = runlog.Query{RunID: run}
	all := s.fetchExactly(q, 5)
	for _, e := range all {
		wantStep := ""
		if strings.HasPrefix(e.Message, "step") {
			wantStep = "a"
		}
		if e.StepID != wantStep {
			s.t.Errorf("entry %q has StepID %q; want %q", e.Message, e.StepID, wantStep)
		}
		if e.StepID == "" && e.Source != runlog.SourceOrchestrator {
			s.t.Errorf("run-level entry %q has Source %q; want %q", e.Message, e.Source, runlog.SourceOrchestrator)
		}
	}
}

const concurrentSteps = 32

func (s *suite) concurrentSteps() {
	run := s.run("conc")
	const n = 200
	runCtx := s.activate(s.ctx(), runlog.Scope{RunID: run})
	var wg sync.WaitGroup
	errs := make(chan error, concurrentSteps)
	start := make(chan struct{})
	// Every step logs half its lines, waits for all the others to have
	// done so, then logs the rest: the steps' records interleave whatever
	// the scheduler does. Without it, a fast step can log all its lines
	// while it happens to be the innermost activation, which hides a store
	// that routes by "innermost" instead of by context.
	var half sync.WaitGroup
	half.Add(concurrentSteps)
	for i := range concurrentSteps {
		wg.Go(func() {
			step := fmt.Sprintf("step-%02d", i)
			ctx, err := s.s.Activate(runCtx, runlog.Scope{RunID: run, StepID: step})
			if err != nil {
				half.Done()
				errs <- err
				return
			}
			<-start
			lg := runlog.Logger(ctx)
			for j := range n {
				if j == n/2 {
					half.Done()
					half.Wait()
				}
				if j%2 == 0 {
					slog.InfoContext(ctx, "line", "step", step, "j", j)
				} else {
					lg.Info("line", "step", step, "j", j)
				}
			}
			errs <- s.s.Deactivate(ctx)
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			s.t.Fatalf("concurrent step: %v", err)
		}
	}
	s.deactivate(runCtx)
	// Attribution first: a record under the wrong step is the worst fault.
	all := s.fetchAll(runlog.Query{RunID: run}, concurrentSteps*n)
	wrong := 0
	for _, e := range all {
		if e.StepID != e.Attributes["step"] {
			wrong++
			if wrong <= 3 {
				s.t.Errorf("entry logged by step %q (j=%s) is stored under step %q: misattributed", e.Attributes["step"], e.Attributes["j"], e.StepID)
			}
		}
	}
	if wrong > 0 {
		s.t.Fatalf("%d of %d entries misattributed across %d concurrent steps", wrong, len(all), concurrentSteps)
	}
	if len(all) != concurrentSteps*n {
		s.t.Fatalf("the run has %d entries; want %d (%d steps x %d lines)", len(all), concurrentSteps*n, concurrentSteps, n)
	}
	s.checkOrder("whole run", all)
	s.checkUnique("whole run", all)
	for i := range concurrentSteps {
		step := fmt.Sprintf("step-%02d", i)
		es := s.fetchExactly(runlog.Query{RunID: run, StepID: step}, n)
		for j, e := range es {
			if e.StepID != step {
				s.t.Fatalf("Fetch of step %s returned an entry of step %q", step, e.StepID)
			}
			if e.Attributes["j"] != strconv.Itoa(j) {
				s.t.Fatalf("%s: entry %d is line j=%s; want j=%d (lines out of order or missing)", step, j, e.Attributes["j"], j)
			}
		}
	}
}

func (s *suite) ordering() {
	run := s.run("ord")
	ctx := s.activate(s.ctx(), runlog.Scope{RunID: run, StepID: "s"})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 100 {
				slog.InfoContext(ctx, "x", "g", g, "i", i)
			}
		})
	}
	wg.Wait()
	s.deactivate(ctx)
	es := s.fetchExactly(runlog.Query{RunID: run, StepID: "s"}, 400)
	s.checkOrder("concurrent goroutines in one step", es)
	last := map[string]int{}
	for _, e := range es {
		i, _ := strconv.Atoi(e.Attributes["i"])
		g := e.Attributes["g"]
		if prev, ok := last[g]; ok && i <= prev {
			s.t.Fatalf("goroutine %s: line %d comes after line %d; one goroutine's lines must keep their order", g, i, prev)
		}
		last[g] = i
	}
}

func (s *suite) writeN(run, step string, n int) {
	s.t.Helper()
	ctx := s.activate(s.ctx(), runlog.Scope{RunID: run, StepID: step})
	for i := range n {
		slog.InfoContext(ctx, "line "+strconv.Itoa(i), "i", i)
	}
	s.deactivate(ctx)
}

func (s *suite) paging() {
	run := s.run("page")
	const n = 1000
	s.writeN(run, "a", n/2)
	s.writeN(run, "b", n/2)
	whole := s.fetchExactly(runlog.Query{RunID: run}, n)
	for _, c := range []struct {
		step     string
		limit, n int
	}{{"a", 1, n / 2}, {"", 7, n}, {"", 100, n}, {"", 999, n}, {"", 1000, n}, {"", 1001, n}} {
		limit, want := c.limit, whole
		if c.step != "" {
			want = s.fetchExactly(runlog.Query{RunID: run, StepID: c.step}, c.n)
		}
		q := runlog.Query{RunID: run, StepID: c.step, Limit: limit}
		var got []runlog.LogEntry
		for page := 0; ; page++ {
			p, err := s.s.Fetch(s.ctx(), q)
			if err != nil {
				s.t.Fatalf("limit %d page %d: %v", limit, page, err)
			}
			if len(p.Entries) > limit {
				s.t.Fatalf("limit %d page %d: %d entries; a page holds at most Limit", limit, page, len(p.Entries))
			}
			got = append(got, p.Entries...)
			if !p.More {
				break
			}
			if len(p.Entries) == 0 || p.Next == q.Cursor {
				s.t.Fatalf("limit %d page %d: no entries, More, and a cursor that does not move: a reader would loop forever", limit, page)
			}
			if page > n {
				s.t.Fatalf("limit %d: more than %d pages", limit, n)
			}
			q.Cursor = p.Next
		}
		s.checkUnique(fmt.Sprintf("limit %d", limit), got)
		if len(got) != c.n {
			s.t.Fatalf("paging with limit %d returned %d entries; want %d (gaps or duplicates at page boundaries)", limit, len(got), c.n)
		}
		for i := range got {
			if got[i].ID != want[i].ID {
				s.t.Fatalf("paging with limit %d: entry %d is %q; the unpaged fetch has %q there", limit, i, got[i].Message, want[i].Message)
			}
		}
	}
	// The iterator form agrees.
	i := 0
	for e, err := range runlog.All(s.ctx(), s.s, runlog.Query{RunID: run, Limit: 64}) {
		if err != nil {
			s.t.Fatalf("runlog.All: %v", err)
		}
		if e.ID != whole[i].ID {
			s.t.Fatalf("runlog.All: entry %d is %q; want %q", i, e.Message, whole[i].Message)
		}
		i++
	}
	if i != n {
		s.t.Fatalf("runlog.All returned %d entries; want %d", i, n)
	}
	// A cursor from the last page sees later records, once.
	p, err := s.s.Fetch(s.ctx(), runlog.Query{RunID: run, StepID: "c"})
	if err != nil {
		s.t.Fatal(err)
	}
	s.writeN(run, "c", 3)
	got := s.fetchAll(runlog.Query{RunID: run, StepID: "c", Cursor: p.Next}, 3)
	if len(got) != 3 {
		s.t.Fatalf("fetch with the cursor of an empty page, after 3 more records: %d entries; want 3", len(got))
	}
}

func (s *suite) pagingBackward() {
	run := s.run("back")
	const n = 300
	s.writeN(run, "a", n)
	fwd := s.fetchExactly(runlog.Query{RunID: run}, n)
	q := runlog.Query{RunID: run, Direction: runlog.Backward, Limit: 40}
	var got []runlog.LogEntry
	for {
		p, err := s.s.Fetch(s.ctx(), q)
		if err != nil {
			s.t.Fatal(err)
		}
		got = append(got, p.Entries...)
		if !p.More {
			break
		}
		if len(p.Entries) == 0 || p.Next == q.Cursor {
			s.t.Fatalf("backward page after %d entries: %d entries, More, and a cursor that does not move: a reader would loop forever", len(got), len(p.Entries))
		}
		q.Cursor = p.Next
		if len(got) > 2*n {
			s.t.Fatal("backward paging does not end")
		}
	}
	if len(got) != n {
		s.t.Fatalf("backward paging returned %d entries; want %d", len(got), n)
	}
	for i := range got {
		if got[i].ID != fwd[n-1-i].ID {
			s.t.Fatalf("backward entry %d is %q; want %q (the forward order reversed)", i, got[i].Message, fwd[n-1-i].Message)
		}
	}
}

func (s *suite) limit() {
	run := s.run("lim")
	s.writeN(run, "a", 50)
	s.fetchExactly(runlog.Query{RunID: run}, 50) // visible
	p, err := s.s.Fetch(s.ctx(), runlog.Query{RunID: run, Limit: 10})
	if err != nil {
		s.t.Fatal(err)
	}
	if len(p.Entries) != 10 || !p.More {
		s.t.Fatalf("Limit 10 of 50: %d entries, More=%v; want 10 entries and More", len(p.Entries), p.More)
	}
	if p.Entries[0].Message != "line 0" || p.Entries[9].Message != "line 9" {
		s.t.Fatalf("Limit 10 of 50 returned %q..%q; want the first ten, line 0..line 9", p.Entries[0].Message, p.Entries[9].Message)
	}
	p, err = s.s.Fetch(s.ctx(), runlog.Query{RunID: run})
	if err != nil {
		s.t.Fatal(err)
	}
	if len(p.Entries) != 50 || p.More {
		s.t.Fatalf("default limit: %d entries, More=%v; want all 50 and no More", len(p.Entries), p.More)
	}
	p, err = s.s.Fetch(s.ctx(), runlog.Query{RunID: run, Limit: 5, Direction: runlog.Backward})
	if err != nil {
		s.t.Fatal(err)
	}
	if len(p.Entries) != 5 || p.Entries[0].Message != "line 49" {
		s.t.Fatalf("Limit 5 backward: %v; want the last five, newest first", summary(p.Entries))
	}
}

func (s *suite) timeRange() {
	run := s.run("time")
	ctx := s.activate(s.ctx(), runlog.Scope{RunID: run, StepID: "s"})
	var marks []time.Time
	for i := range 3 {
		time.Sleep(30 * time.Millisecond)
		marks = append(marks, time.Now())
		time.Sleep(30 * time.Millisecond)
		for j := range 3 {
			slog.InfoContext(ctx, fmt.Sprintf("g%d-%d", i, j))
		}
	}
	time.Sleep(30 * time.Millisecond)
	marks = append(marks, time.Now())
	s.deactivate(ctx)
	s.fetchExactly(runlog.Query{RunID: run}, 9)
	s.messages(runlog.Query{RunID: run, Start: marks[1], End: marks[2]}, "g1-0", "g1-1", "g1-2")
	s.messages(runlog.Query{RunID: run, Start: marks[2]}, "g2-0", "g2-1", "g2-2")
	s.messages(runlog.Query{RunID: run, End: marks[1]}, "g0-0", "g0-1", "g0-2")
	s.messages(runlog.Query{RunID: run, Start: marks[3]})
}

func (s *suite) textFilter() {
	run := s.run("grep")
	msgs := []string{"plain text", `a "quoted" word`, `back\slash`, "pipe | here", "regex .* meta (x)", "`tick`", "Case", "case", "line\nbreak", "héllo wörld"}
	ctx := s.activate(s.ctx(), runlog.Scope{RunID: run, StepID: "s"})
	for _, m := range msgs {
		slog.InfoContext(ctx, m)
	}
	s.deactivate(ctx)
	s.fetchExactly(runlog.Query{RunID: run}, len(msgs))
	for _, c := range []struct {
		needle string
		want   []string
	}{
		{"text", []string{"plain text"}},
		{`"quoted"`, []string{`a "quoted" word`}},
		{`\s`, []string{`back\slash`}},
		{"|", []string{"pipe | here"}},
		{".*", []string{"regex .* meta (x)"}},
		{"(x)", []string{"regex .* meta (x)"}},
		{"`", []string{"`tick`"}},
		{"case", []string{"case"}},
		{"\nb", []string{"line\nbreak"}},
		{"wörld", []string{"héllo wörld"}},
		{"no such text", nil},
	} {
		s.messages(runlog.Query{RunID: run, Contains: c.needle}, c.want...)
	}
}

func (s *suite) sourceFilter() {
	run := s.run("src")
	for _, src := range []string{"step", "orchestrator", "hook:on_failure"} {
		ctx := s.activate(s.ctx(), runlog.Scope{RunID: run, StepID: "s", Source: src})
		slog.InfoContext(ctx, "from "+src)
		s.deactivate(ctx)
	}
	s.fetchExactly(runlog.Query{RunID: run}, 3)
	s.messages(runlog.Query{RunID: run, Source: "hook:on_failure"}, "from hook:on_failure")
	s.messages(runlog.Query{RunID: run, StepID: "s", Source: "orchestrator"}, "from orchestrator")
}

func (s *suite) unicode() {
	run := s.run("utf8")
	msgs := []string{"héllo 世界 🎉", "tab\tnew\nline", "nul\x00byte", "ctrl \x1b[31mred\x1b[0m", "bad \xff\xfe bytes", "\u202eRTL"}
	ctx := s.activate(s.ctx(), runlog.Scope{RunID: run, StepID: "s"})
	for _, m := range msgs {
		slog.InfoContext(ctx, m, "attr", m)
	}
	s.deactivate(ctx)
	es := s.fetchExactly(runlog.Query{RunID: run}, len(msgs))
	for i, m := range msgs {
		got := es[i].Message
		if !utf8.ValidString(got) {
			s.t.Errorf("entry %d: message %q is not valid UTF-8; stores must repair invalid bytes (U+FFFD), not keep or drop them", i, got)
			continue
		}
		if utf8.ValidString(m) {
			if got != m {
				s.t.Errorf("entry %d: message %q; want %q exactly", i, got, m)
			}
			if es[i].Attributes["attr"] != m {
				s.t.Errorf("entry %d: attribute %q; want %q exactly", i, es[i].Attributes["attr"], m)
			}
			continue
		}
		perRun := strings.ToValidUTF8(m, "\uFFFD")
		perByte := strings.Map(func(r rune) rune { return r }, m) // range over string yields U+FFFD per bad byte
		if got != perRun && got != perByte {
			s.t.Errorf("entry %d: invalid UTF-8 %q came back as %q; want it repaired as %q", i, m, got, perRun)
		}
	}
}

func (s *suite) largeMessage() {
	run := s.run("big")
	var b strings.Builder
	for b.Len() < 1<<20 {
		b.WriteString("0123456789abcdef-日本語-")
	}
	big := b.String()
	ctx := s.activate(s.ctx(), runlog.Scope{RunID: run, StepID: "s"})
	slog.InfoContext(ctx, "before")
	slog.InfoContext(ctx, big)
	slog.InfoContext(ctx, "after")
	s.deactivate(ctx)
	es := s.fetchAll(runlog.Query{RunID: run}, 3)
	if len(es) < 3 || es[0].Message != "before" || es[len(es)-1].Message != "after" {
		s.t.Fatalf("a 1 MiB message between two short ones: got\n%s", summary(es))
	}
	chunks := es[1 : len(es)-1]
	var got strings.Builder
	for i, c := range chunks {
		if c.ID != chunks[0].ID || c.ChunkIndex != i || c.TotalChunks != len(chunks) {
			s.t.Fatalf("chunk %d: id %q index %d total %d; want id %q index %d total %d",
				i, c.ID, c.ChunkIndex, c.TotalChunks, chunks[0].ID, i, len(chunks))
		}
		got.WriteString(c.Message)
	}
	if got.String() != big {
		s.t.Fatalf("the 1 MiB message came back as %d bytes in %d chunks; want the %d bytes sent, whole", got.Len(), len(chunks), len(big))
	}
}

func (s *suite) emptyResults() {
	run := s.run("empty")
	s.writeN(run, "a", 5)
	s.fetchExactly(runlog.Query{RunID: run}, 5)
	for _, q := range []runlog.Query{
		{RunID: run, StepID: "no-such-step"},
		{RunID: run, Contains: "no such text"},
		{RunID: run, MinLevel: runlog.LevelError},
		{RunID: run, Source: "no-such-source"},
		{RunID: run, Start: time.Now().Add(time.Hour)},
	} {
		p, err := s.s.Fetch(s.ctx(), q)
		if err != nil {
			s.t.Errorf("Fetch(%s) = %v; want an empty page", describe(q), err)
			continue
		}
		if len(p.Entries) != 0 || p.More {
			s.t.Errorf("Fetch(%s): %d entries, More=%v; want none", describe(q), len(p.Entries), p.More)
		}
	}
}

func (s *suite) unknownRun() {
	q := runlog.Query{RunID: s.run("never-written")}
	p, err := s.s.Fetch(s.ctx(), q)
	if err != nil {
		s.t.Fatalf("Fetch of an unknown run = %v; want an empty page and no error", err)
	}
	if len(p.Entries) != 0 || p.More {
		s.t.Fatalf("Fetch of an unknown run: %d entries; want none", len(p.Entries))
	}
}

func (s *suite) hostileIDs() {
	base := s.run("hostile")
	ids := []struct{ run, step, source string }{
		{base + "/../../x", "../../etc/passwd", "step"},
		{base + `"q'`, `a"b|c\d` + "`", "hook:on \"x\""},
		{base + "{a=~\".*\"}", "s\nnewline", "src | json"},
		{base + " space", "日本語", "ünï"},
	}
	for i, id := range ids {
		ctx := s.activate(s.ctx(), runlog.Scope{RunID: id.run, StepID: id.step, Source: id.source})
		slog.InfoContext(ctx, "hostile "+strconv.Itoa(i))
		s.deactivate(ctx)
	}
	for i, id := range ids {
		es := s.messages(runlog.Query{RunID: id.run, StepID: id.step, Source: id.source}, "hostile "+strconv.Itoa(i))
		if es[0].RunID != id.run || es[0].StepID != id.step || es[0].Source != id.source {
			s.t.Errorf("ids came back as run %q step %q source %q; want %q %q %q", es[0].RunID, es[0].StepID, es[0].Source, id.run, id.step, id.source)
		}
		s.messages(runlog.Query{RunID: id.run}, "hostile "+strconv.Itoa(i))
	}
	// A prefix or pattern of an id matches nothing.
	for _, q := range []runlog.Query{{RunID: base}, {RunID: base + "/.."}, {RunID: ids[2].run[:len(ids[2].run)-1]}, {RunID: ids[0].run, StepID: "../../etc"}} {
		p, err := s.s.Fetch(s.ctx(), q)
		if err != nil {
			s.t.Fatalf("Fetch(%s) = %v", describe(q), err)
		}
		if len(p.Entries) != 0 {
			s.t.Errorf("Fetch(%s) matched %d entries of other ids; ids must match exactly", describe(q), len(p.Entries))
		}
	}
}

func (s *suite) invalidInput() {
	wantInvalid := func(what string, err error) {
		s.t.Helper()
		if !errors.Is(err, runlog.ErrInvalid) {
			s.t.Errorf("%s = %v; want an error wrapping runlog.ErrInvalid", what, err)
		} else if len(err.Error()) < 20 {
			s.t.Errorf("%s: error %q is too terse to act on", what, err)
		}
	}
	_, err := s.s.Activate(s.ctx(), runlog.Scope{})
	wantInvalid("Activate with an empty RunID", err)
	_, err = s.s.Activate(s.ctx(), runlog.Scope{RunID: "bad\xffutf8"})
	wantInvalid("Activate with invalid UTF-8 in RunID", err)
	_, err = s.s.Fetch(s.ctx(), runlog.Query{})
	wantInvalid("Fetch with an empty RunID", err)
	_, err = s.s.Fetch(s.ctx(), runlog.Query{RunID: s.run("x"), Limit: -1})
	wantInvalid("Fetch with Limit -1", err)
	_, err = s.s.Fetch(s.ctx(), runlog.Query{RunID: s.run("x"), Cursor: "not a cursor!"})
	wantInvalid("Fetch with a cursor the store did not make", err)
	now := time.Now()
	_, err = s.s.Fetch(s.ctx(), runlog.Query{RunID: s.run("x"), Start: now, End: now.Add(-time.Hour)})
	wantInvalid("Fetch with End before Start", err)
}

func (s *suite) deactivateIdempotent() {
	run := s.run("idem")
	ctx := s.activate(s.ctx(), runlog.Scope{RunID: run})
	slog.InfoContext(ctx, "once")
	s.deactivate(ctx)
	s.deactivate(ctx)
	if err := s.s.Deactivate(context.Background()); err != nil {
		s.t.Errorf("Deactivate with nothing active = %v; want nil", err)
	}
	s.messages(runlog.Query{RunID: run}, "once")
}

func (s *suite) afterDeactivate() {
	run := s.run("after")
	runCtx := s.activate(s.ctx(), runlog.Scope{RunID: run})
	stepCtx := s.activate(runCtx, runlog.Scope{RunID: run, StepID: "done"})
	slog.InfoContext(stepCtx, "inside")
	s.deactivate(stepCtx)
	slog.InfoContext(stepCtx, "late, with the ended step's context")
	slog.InfoContext(runCtx, "run after step")
	s.deactivate(runCtx)
	s.messages(runlog.Query{RunID: run, StepID: "done"}, "inside")
}
