package victorialogs

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/resource"
)

func TestFilter(t *testing.T) {
	cicd := resource.CICD()
	got := filter(&cicd, &runlog.Query{RunID: "r1", StepID: "train", Source: "step", Contains: "loss", MinLevel: runlog.LevelWarn}, false)
	// The default convention may be on the record: field filters, which
	// match stream fields too.
	want := `"cicd.pipeline.run.id":="r1" "cicd.pipeline.task.run.id":="train" "runlog.source":="step" severity_number:>=13 _msg:*"loss"* !"runlog.end":="true"`
	if got != want {
		t.Errorf("filter =\n%s\nwant\n%s", got, want)
	}
	if got, want := LogsQL(runlog.Query{RunID: "r1", StepID: "train", Limit: 5}), `"cicd.pipeline.run.id":="r1" "cicd.pipeline.task.run.id":="train" !"runlog.end":="true" | delete _stream, _stream_id`; got != want {
		t.Errorf("LogsQL =\n%s\nwant\n%s", got, want)
	}
	got = filter(&cicd, &runlog.Query{RunID: `a"b`, StepID: "s", Contains: "x"}, true)
	want = `"cicd.pipeline.run.id":="a\"b" "cicd.pipeline.task.run.id":="s" "runlog.end":="true"`
	if got != want {
		t.Errorf("marker filter =\n%s\nwant\n%s", got, want)
	}
	// A convention of the resource alone: the stream index.
	res := cicd
	res.Where = resource.InResource
	got = filter(&res, &runlog.Query{RunID: "r1", StepID: "train", Source: "step"}, false)
	want = `{"cicd.pipeline.run.id"="r1", "cicd.pipeline.task.run.id"="train", "runlog.source"="step"} !"runlog.end":="true"`
	if got != want {
		t.Errorf("resource filter =\n%s\nwant\n%s", got, want)
	}
	zenml, err := resource.ConventionNamed("zenml")
	if err != nil {
		t.Fatal(err)
	}
	got = filter(&zenml, &runlog.Query{RunID: "r", StepID: "s", Source: "step"}, false)
	want = `"zenml.pipeline.run.id":="r" "zenml.step.run.id":="s" "zenml.log.source":="step" !"runlog.end":="true"`
	if got != want {
		t.Errorf("zenml filter =\n%s\nwant\n%s", got, want)
	}
	if got, want := anyRun(&cicd), `"cicd.pipeline.run.id":*`; got != want {
		t.Errorf("anyRun = %s; want %s", got, want)
	}
	if got, want := anyRun(&res), `{"cicd.pipeline.run.id"!=""}`; got != want {
		t.Errorf("anyRun of the resource = %s; want %s", got, want)
	}
	sp := span{time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC).UnixNano(), time.Date(2026, 1, 2, 3, 4, 6, 0, time.UTC).UnixNano()}
	if got, want := sp.filter(), " _time:[2026-01-02T03:04:05.000000006Z, 2026-01-02T03:04:06Z)"; got != want {
		t.Errorf("span filter = %q; want %q", got, want)
	}
	if got, want := (span{lo: sp.lo}).filter(), " _time:>=2026-01-02T03:04:05.000000006Z"; got != want {
		t.Errorf("open span filter = %q; want %q", got, want)
	}
	if got := (span{}).filter(); got != "" {
		t.Errorf("unbounded span filter = %q; want none", got)
	}
}

// FuzzQuote: whatever an id, source or grep text holds, its LogsQL
// literal is read back by VictoriaLogs' lexer (strconv.QuotedPrefix, then
// strconv.Unquote) as exactly that text, and the lexer's token ends where
// the literal does, whatever follows it.
func FuzzQuote(f *testing.F) {
	for _, s := range []string{`"} or {a=~".+"`, "a\\b", "`tick` | delete _msg", "new\nline\r\t", `*"x"*`, `:="y"`, "\x00\xff", `\"`, "日本 🙂", "# comment"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q := quote(s)
		for _, rest := range []string{"", `"`, ` | limit 1`, `\`, "`"} {
			tok, err := strconv.QuotedPrefix(q + rest)
			if err != nil || tok != q {
				t.Fatalf("the lexer reads %q + %q as the token %q, %v; want %s", s, rest, tok, err, q)
			}
		}
		back, err := strconv.Unquote(q)
		if err != nil || back != s {
			t.Fatalf("quote(%q) = %s reads back as %q, %v", s, q, back, err)
		}
		if strings.ContainsAny(q, "\n\r\x00") {
			t.Fatalf("quote(%q) = %q holds a raw control character", s, q)
		}
	})
}

// FuzzFilter: a query's filter holds each of its values once, as a
// literal that reads back exactly, in the order the filter builds them.
func FuzzFilter(f *testing.F) {
	f.Add("run", "step", "src", "text")
	f.Add(`r"}`, `s\`, "`", "*")
	f.Fuzz(func(t *testing.T, run, step, source, contains string) {
		if run == "" {
			return
		}
		q := runlog.Query{RunID: run, StepID: step, Source: source, Contains: contains}
		conv := resource.CICD()
		got := filter(&conv, &q, false)
		var want []string
		for _, v := range []string{run, step, source, contains} {
			if v != "" {
				want = append(want, v)
			}
		}
		var vals []string
		rest := got
		for {
			i := strings.IndexAny(rest, "\"`")
			if i < 0 {
				break
			}
			tok, err := strconv.QuotedPrefix(rest[i:])
			if err != nil {
				t.Fatalf("filter %s: unterminated literal at %q", got, rest[i:])
			}
			v, _ := strconv.Unquote(tok)
			vals = append(vals, v)
			rest = rest[i+len(tok):]
		}
		// Field names and values alternate; the grep text and the
		// end-marker test come last.
		var values []string
		for i := 1; i < len(vals); i += 2 {
			values = append(values, vals[i])
			if len(values) == len(want)-boolInt(contains != "") {
				break
			}
		}
		if contains != "" {
			values = append(values, vals[2*(len(want)-1)])
		}
		if strings.Join(values, "\x00") != strings.Join(want, "\x00") {
			t.Fatalf("filter %s holds the values %q; want %q", got, values, want)
		}
	})
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
