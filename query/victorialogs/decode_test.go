package victorialogs

import (
	"encoding/json"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/runlog/runlog"
)

func TestDecodeLine(t *testing.T) {
	line := `{"_msg":"hello \"w\"\norld \u00e9\ud83d\ude00","_time":"2026-11-25T11:51:01.255172025Z","cicd.pipeline.run.id":"r\"1","cicd.pipeline.task.run.id":"train",` +
		`"code.file.path":"/src/main.go","code.function.name":"example.com/a/b.Run","code.line.number":"19","g.a":"b","k":"1",` +
		`"runlog.activation.id":"act","runlog.attempt":"2","runlog.sequence":"7","runlog.source":"step","scope.name":"runlog","scope.version":"unknown",` +
		`"service.name":"runlog","severity_number":"13","severity_text":"WARN","trace_id":"0102","span_id":"0304","_stream_id":"x"}`
	var e runlog.LogEntry
	if err := decodeLine([]byte(line), &e, nil); err != nil {
		t.Fatal(err)
	}
	want := runlog.LogEntry{
		Message: "hello \"w\"\norld é😀", Name: "runlog", Level: runlog.LevelWarn,
		Time:   time.Date(2026, 11, 25, 11, 51, 1, 255172025, time.UTC),
		Module: "example.com/a/b", Filename: "/src/main.go", Lineno: 19, TotalChunks: 1, ID: "act-7",
		RunID: `r"1`, StepID: "train", Source: "step", Attempt: 2, ActivationID: "act", Sequence: 7, TraceID: "0102", SpanID: "0304",
		Attributes: map[string]string{"g.a": "b", "k": "1", "code.function.name": "example.com/a/b.Run"},
	}
	gb, _ := json.Marshal(e)
	wb, _ := json.Marshal(want)
	if string(gb) != string(wb) {
		t.Errorf("decodeLine =\n%s\nwant\n%s", gb, wb)
	}
	for _, bad := range []string{``, `{`, `{"_msg":"x"}`, `{"_time":"yesterday"}`, `{"_time":"2026-11-25T11:51:01Z",}`,
		`{"_time":"2026-11-25T11:51:01Z","n":1}`, `{"_time":"2026-11-25T11:51:01Z"} trailing`, "{\"_msg\":\"raw\nnewline\",\"_time\":\"2026-11-25T11:51:01Z\"}",
		`cannot execute query: cannot connect to storage node`} {
		if err := decodeLine([]byte(bad), &e, nil); err == nil {
			t.Errorf("decodeLine(%q): no error", bad)
		}
	}
}

// FuzzUnescape: the scanner reads any JSON string as encoding/json does.
func FuzzUnescape(f *testing.F) {
	for _, s := range []string{"plain", "q\"uote", "back\\slash", "nl\n", "\x01ctl", "é😀", "\xed\xa0\x80", "\xff", "</script>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, _ := json.Marshal(s) // valid JSON whatever s holds
		d := scanner{b: string(b)}
		got, err := d.str()
		var want string
		if jerr := json.Unmarshal(b, &want); jerr != nil {
			t.Skip()
		}
		if err != nil || got != want {
			t.Fatalf("str(%s) = %q, %v; encoding/json reads %q", b, got, err, want)
		}
	})
}

// FuzzDecodeLine: no input makes the decoder panic, and what it accepts
// encoding/json accepts as an object of strings.
func FuzzDecodeLine(f *testing.F) {
	f.Add([]byte(`{"_msg":"m","_time":"2026-11-25T11:51:01Z","runlog.sequence":"1"}`))
	f.Add([]byte(`{"_msg":"\u0000\\","_time":"2026-11-25T11:51:01.5Z"}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		var e runlog.LogEntry
		if err := decodeLine(line, &e, nil); err != nil {
			return
		}
		var m map[string]string
		if !utf8.Valid(line) {
			return // VictoriaLogs writes UTF-8; encoding/json would repair it
		}
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("decodeLine accepted %q, which is not a JSON object of strings: %v", line, err)
		}
		if m["_msg"] != e.Message {
			t.Fatalf("message %q; encoding/json reads %q", e.Message, m["_msg"])
		}
	})
}
