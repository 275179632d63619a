package serve_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdppage "github.com/chromedp/cdproto/page"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/runlog/runlog"
	"github.com/runlog/runlog/flavors"
	"github.com/runlog/runlog/internal/framing"
	"github.com/runlog/runlog/internal/layout"
	"github.com/runlog/runlog/otelstore"
	"github.com/runlog/runlog/serve"
)

// TestBrowser drives the viewer in a real headless Chromium (Debian's,
// which tools/chromium.sh installs) over a real handler and local store:
// one browser for every check, one tab.
//
// Set RUNLOG_SCREENSHOTS to a directory to keep the screenshots there
// (docs/img's were taken so); they are always written to a temporary
// directory too.
func TestBrowser(t *testing.T) {
	bin := chromium(t)
	fx := newFixture(t)

	srv := httptest.NewServer(serve.New(fx.store, serve.Options{Name: "local"}))
	t.Cleanup(srv.Close)
	fetchOnlySrv := httptest.NewServer(serve.New(fetchOnly{fx.store}, serve.Options{Name: "fetch only"}))
	t.Cleanup(fetchOnlySrv.Close)
	const token = "s3cret-token"
	authed := httptest.NewServer(serve.New(fx.store, serve.Options{Name: "local", Token: token}))
	t.Cleanup(authed.Close)

	b := newBrowser(t, bin)
	shots := t.TempDir()
	run := func(name string, f func(t *testing.T)) {
		t.Run(name, func(t *testing.T) {
			f(t)
			b.healthy(t)
		})
	}

	run("RunsList", func(t *testing.T) {
		// The local store lists its runs (a runlog.RunLister): the run is
		// a link in the list, and opens.
		b.open(t, srv.URL+"/")
		b.waitFor(t, `[...document.querySelectorAll(".runs a.run")].some((a) => a.textContent === "web")`, 10*time.Second)
		b.eval(t, `[...document.querySelectorAll(".runs a.run")].find((a) => a.textContent === "web").click(), true`)
		b.waitFor(t, `location.hash === "#run=web" && document.querySelector(".steps .step") !== null`, 10*time.Second)
	})

	run("RunsListWithoutLister", func(t *testing.T) {
		// A store that cannot list runs (no runlog.RunLister, the API
		// answers 501): the viewer offers to open a run by id instead.
		b.open(t, fetchOnlySrv.URL+"/")
		b.waitFor(t, `document.querySelector(".runs .openrun input") !== null && document.querySelector(".runs table") === null`, 10*time.Second)
		b.do(t, chromedp.SetValue(chromedp.CSS(".openrun input"), "web"))
		b.eval(t, `document.querySelector(".openrun").requestSubmit(), true`)
		b.waitFor(t, `location.hash === "#run=web" && document.querySelector(".steps .step") !== null`, 10*time.Second)
	})

	run("Sidebar", func(t *testing.T) {
		b.open(t, srv.URL+"/#run=web")
		b.waitFor(t, `document.querySelectorAll(".steps .step[data-status]").length === 4`, 15*time.Second)
		got := b.eval(t, `Object.fromEntries([...document.querySelectorAll(".steps .step[data-status]")]
			.map((li) => [li.dataset.step, li.dataset.status + " " + li.querySelector(".badge").textContent]))`)
		want := map[string]any{
			"build":  "complete complete",
			"test":   "incomplete incomplete",
			"deploy": "damaged damaged",
			"watch":  "running running",
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("sidebar steps = %v; want %v", got, want)
		}
		counts := b.eval(t, `document.querySelector('.steps .step[data-step="build"] .count').textContent`)
		if counts != fmt.Sprintf("%s lines", commas(buildLines)) {
			t.Errorf("build's count = %q; want %s lines", counts, commas(buildLines))
		}
		b.open(t, srv.URL+"/#run=web&step=build")
		b.waitRow(t, 1, "build line 1:")
		b.shot(t, shots, "viewer-run.png")
	})

	run("ANSI", func(t *testing.T) {
		b.open(t, srv.URL+"/#run=web&step=build")
		b.waitRow(t, ansiLine, "ansi:")
		got := b.eval(t, `(() => {
			const row = document.querySelector('.row[data-line="`+fmt.Sprint(ansiLine)+`"] .msg');
			const span = (text) => [...row.querySelectorAll("span")].find((s) => s.textContent === text);
			const style = (text) => { const s = span(text); if (!s) return "missing"; const c = getComputedStyle(s);
				return [c.color, c.backgroundColor, c.fontWeight, c.textDecorationLine].join(" | "); };
			return {
				red: style("RED"), boldgreen: style("BOLDGREEN"), orange: style("ORANGE256"),
				blue: style("TRUEBLUE"), under: style("under"), onblue: style("ONBLUE"),
				text: row.textContent, esc: row.textContent.includes("\x1b"),
				plain: getComputedStyle(row).color,
			};
		})()`).(map[string]any)
		want := map[string]string{
			"red":       "rgb(205, 49, 49) | ",
			"boldgreen": "rgb(13, 188, 121) | rgba(0, 0, 0, 0) | 700",
			"orange":    "rgb(255, 135, 0) | ",
			"blue":      "rgb(10, 20, 250) | ",
			"under":     " | underline",
			"onblue":    " | rgb(36, 114, 200) | ",
		}
		for k, w := range want {
			g, _ := got[k].(string)
			parts := strings.Split(w, " | ")
			for _, p := range parts {
				if p != "" && !strings.Contains(g, p) {
					t.Errorf("%s: computed style %q; want it to hold %q", k, g, p)
				}
			}
		}
		if got["esc"] != false {
			t.Errorf("the ANSI row holds a raw ESC: %q", got["text"])
		}
		if text, _ := got["text"].(string); !strings.Contains(text, `\x1b[2J`) {
			t.Errorf("a non-SGR sequence should show escaped as \\x1b[2J; row text %q", text)
		}
		b.open(t, srv.URL+"/#run=colours&step=palette&line=14")
		b.waitRow(t, 14, "passed")
		b.shot(t, shots, "viewer-ansi.png")
	})

	run("EscapeScheme", func(t *testing.T) {
		// the viewer escapes as the text download and runlog logs do
		var in []string
		for c := rune(0); c < 0x20; c++ {
			in = append(in, "a"+string(c)+"b")
		}
		in = append(in, "\x7f", "\u0080", "\u009f", "\u061c", "\u200e", "\u200f", "\u202a", "\u202e", "\u2066", "\u2069",
			"\u2028", "\u2029", `back\slash "quoted"`, "é 日本語 🎉 ok", "\x1b[31mred\x1b[0m")
		js, _ := json.Marshal(in)
		b.open(t, srv.URL+"/#run=web&step=build")
		got := toStrings(b.evalAsync(t, `import("./js/text.js").then((m) => `+string(js)+`.map(m.escape))`))
		for i, s := range in {
			if want := serve.EscapeText(s); i >= len(got) || got[i] != want {
				t.Errorf("escape(%q) in the viewer = %q; the download has %q", s, at(got, i), want)
			}
		}
		// SGR parsing, element by element
		cases := map[string]string{
			"\x1b[1;31mX\x1b[0mY":          `<span class="b fg1">X</span>Y`,
			"\x1b[38;5;196mR":              `<span style="color: rgb(255, 0, 0);">R</span>`,
			"\x1b[38:2::1:2:3mC":           `<span style="color: rgb(1, 2, 3);">C</span>`,
			"\x1b[48;5;244mG":              `<span style="background-color: rgb(128, 128, 128);">G</span>`,
			"\x1b[7mI":                     `<span class="inv-fg inv-bg">I</span>`,
			"\x1b[3;4;9mS\x1b[mZ":          `<span class="i u s">S</span>Z`,
			"\x1b[999mQ":                   `Q`,
			"\x1b[31 no m":                 `<span class="ctl">\x1b</span>[31 no m`,
			"\x1b[31mA\x1b[39;42mB\x1b[0m": `<span class="fg1">A</span><span class="bg2">B</span>`,
		}
		var keys []string
		for k := range cases {
			keys = append(keys, k)
		}
		js, _ = json.Marshal(keys)
		html := toStrings(b.evalAsync(t, `import("./js/ansi.js").then((m) => `+string(js)+`.map((s) => {
			const d = document.createElement("div"); m.render(d, s); return d.innerHTML; }))`))
		for i, k := range keys {
			if at(html, i) != cases[k] {
				t.Errorf("render(%q) = %s; want %s", k, at(html, i), cases[k])
			}
		}
	})

	run("Hostile", func(t *testing.T) {
		b.dialogs.Store(0)
		b.open(t, srv.URL+"/#run=web&step=build")
		b.waitRow(t, hostileFirst+len(hostileMessages)-1, "build line")
		// the detail panel renders attributes too
		b.eval(t, `document.querySelector('.row[data-line="`+fmt.Sprint(hostileFirst)+`"] .msg').click(), true`)
		b.waitFor(t, `!document.querySelector(".detail").hidden`, 5*time.Second)
		b.do(t, chromedp.Sleep(300*time.Millisecond)) // an onerror would have fired by now
		got := b.eval(t, `(() => {
			const rows = document.querySelector(".rows");
			const odd = [...rows.querySelectorAll("*")].filter((e) =>
				!(e.tagName === "DIV" && e.classList.contains("row")) &&
				!(e.tagName === "A" && e.classList.contains("ln") && e.getAttribute("href").startsWith("#")) &&
				e.tagName !== "SPAN").map((e) => e.outerHTML.slice(0, 80));
			const detailOdd = [...document.querySelector(".detail").querySelectorAll("*")].filter((e) =>
				!["DL", "DT", "DD", "H3", "BUTTON"].includes(e.tagName)).map((e) => e.tagName);
			const texts = [...rows.querySelectorAll(".row")].map((r) => r.textContent);
			return {
				odd, detailOdd, texts,
				scripts: document.scripts.length, imgs: document.images.length,
				js: [...document.querySelectorAll("a")].filter((a) => /^\s*javascript:/i.test(a.getAttribute("href") || "")).length,
				alerts: window.__alerts, title: document.title,
			};
		})()`).(map[string]any)
		if odd := got["odd"].([]any); len(odd) > 0 {
			t.Errorf("the log rows hold elements made from log content: %v", odd)
		}
		if odd := got["detailOdd"].([]any); len(odd) > 0 {
			t.Errorf("the detail panel holds elements made from log content: %v", odd)
		}
		if got["scripts"] != float64(1) || got["imgs"] != float64(0) || got["js"] != float64(0) {
			t.Errorf("scripts %v (want 1, the viewer's), images %v, javascript: links %v (want 0)", got["scripts"], got["imgs"], got["js"])
		}
		if got["alerts"] != float64(0) || b.dialogs.Load() != 0 {
			t.Errorf("alert called %v times, %d dialogs opened; want none", got["alerts"], b.dialogs.Load())
		}
		if title, _ := got["title"].(string); strings.Contains(title, "pwned") {
			t.Errorf("an OSC sequence set the title: %q", title)
		}
		texts := strings.Join(toStrings(got["texts"]), "\n")
		for _, h := range hostileShown {
			if !strings.Contains(texts, h) {
				t.Errorf("rows do not show %q as text; rows:\n%s", h, texts)
			}
		}
	})

	run("Permalink", func(t *testing.T) {
		const n = 2200 // on the third page of 1,000, read from the end
		b.open(t, srv.URL+fmt.Sprintf("/#run=web&step=build&line=%d", n))
		b.waitRow(t, n, fmt.Sprintf("build line %d:", n))
		got := b.eval(t, fmt.Sprintf(`(() => {
			const row = document.querySelector('.row.hl');
			const box = document.querySelector(".log").getBoundingClientRect(), r = row && row.getBoundingClientRect();
			return { line: row ? row.dataset.line : "", inView: !!r && r.top >= box.top && r.bottom <= box.bottom,
				href: document.querySelector('.row[data-line="%d"] a.ln').getAttribute("href") };
		})()`, n)).(map[string]any)
		if got["line"] != fmt.Sprint(n) || got["inView"] != true {
			t.Errorf("highlighted line %v, in view %v; want line %d in view", got["line"], got["inView"], n)
		}
		if want := fmt.Sprintf("#run=web&step=build&line=%d", n); got["href"] != want {
			t.Errorf("line link %v; want %s", got["href"], want)
		}
	})

	run("Search", func(t *testing.T) {
		b.open(t, srv.URL+"/#run=web&step=build")
		b.waitRow(t, 1, "build line 1:")
		b.do(t, chromedp.SetValue(chromedp.CSS(".toolbar .search"), needle))
		b.eval(t, `document.querySelector(".toolbar").requestSubmit(), true`)
		b.waitFor(t, `location.hash.includes("search=`+needle+`") &&
			document.querySelectorAll(".row:not(.loading)").length === 1`, 15*time.Second)
		got := b.eval(t, `[...document.querySelectorAll(".row")].map((r) => r.textContent)`)
		rows := toStrings(got)
		if len(rows) != 1 || !strings.Contains(rows[0], fmt.Sprintf("build line %d: %s", needleLine, needle)) {
			t.Errorf("search rows = %q; want the one line holding %s", rows, needle)
		}
	})

	run("Level", func(t *testing.T) {
		b.open(t, srv.URL+"/#run=web&step=build&level=error")
		b.waitRow(t, 1, "build line 50:")
		got := toStrings(b.eval(t, `[...document.querySelectorAll(".row:not(.loading) .lv")].map((e) => e.textContent.trim())`))
		if len(got) == 0 || strings.Join(got, " ") != strings.TrimSpace(strings.Repeat("ERROR ", len(got))) {
			t.Errorf("levels shown with level=error: %q", got)
		}
		if v := b.eval(t, `document.querySelector(".toolbar select").value`); v != "error" {
			t.Errorf("level menu shows %v; want error", v)
		}
	})

	run("Download", func(t *testing.T) {
		b.open(t, srv.URL+"/#run=web&step=build")
		b.waitRow(t, 1, "build line 1:")
		got := b.evalAsync(t, `fetch(document.querySelector("a.download").href).then(async (r) => {
			const body = await r.text();
			return { status: r.status, cd: r.headers.get("Content-Disposition") || "", n: body.length, head: body.slice(0, 200) };
		})`).(map[string]any)
		if got["status"] != float64(200) || !strings.Contains(got["cd"].(string), "attachment") || got["n"].(float64) == 0 {
			t.Fatalf("download: %v", got)
		}
		if !strings.Contains(got["head"].(string), "build line 1:") {
			t.Errorf("download starts %q; want the first line", got["head"])
		}
	})

	run("Token", func(t *testing.T) {
		b.open(t, authed.URL+"/#token="+token+"&run=web")
		b.waitFor(t, `document.querySelectorAll(".steps .step[data-status]").length === 4`, 15*time.Second)
		got := b.eval(t, `[location.hash, sessionStorage.getItem("runlog.token")]`)
		if fmt.Sprint(got) != "[#run=web "+token+"]" {
			t.Errorf("hash and stored token = %v; want the token gone from the address and kept", got)
		}
		// without it: asked for
		b.eval(t, `sessionStorage.clear(), true`)
		b.open(t, authed.URL+"/#run=web")
		b.waitFor(t, `document.querySelector(".banner form.token input[type=password]") !== null`, 10*time.Second)
	})

	run("Follow", func(t *testing.T) {
		b.open(t, srv.URL+"/#run=web&step=watch")
		b.waitFor(t, `document.querySelector(".follow input").checked &&
			[...document.querySelectorAll(".row")].some((r) => r.textContent.includes("watch line 5:"))`, 15*time.Second)
		// written after the page loaded
		for i := 1; i <= 3; i++ {
			slog.InfoContext(fx.watch, fmt.Sprintf("watch late %d: written while followed", i))
		}
		if err := fx.store.Deactivate(fx.watch); err != nil {
			t.Fatal(err)
		}
		b.waitFor(t, `[...document.querySelectorAll(".row")].some((r) => r.textContent.includes("watch late 3:"))`, 20*time.Second)
		b.waitFor(t, `document.querySelector(".toolbar .status").textContent === "the step ended"`, 20*time.Second)
		b.waitFor(t, `document.querySelector('.steps .step[data-step="watch"]').dataset.status === "complete"`, 10*time.Second)
	})

	run("LongStep", func(t *testing.T) {
		start := time.Now()
		b.open(t, srv.URL+"/#run=big&step=many")
		b.waitRowWithin(t, 1, "many line 1:", 60*time.Second)
		first := time.Since(start)
		// the line count comes with the steps listing, which reads the run
		b.waitFor(t, `document.querySelector('.steps .step[data-step="many"]') !== null`, 90*time.Second)
		counted := time.Since(start)
		b.eval(t, `document.querySelector(".log").scrollTop = 1e12, true`)
		b.waitRowWithin(t, fx.bigLines, fmt.Sprintf("many line %d:", fx.bigLines), 90*time.Second)
		rows := b.eval(t, `document.querySelectorAll(".row").length`).(float64)
		if rows <= 0 || rows > 200 {
			t.Errorf("%v rows in the DOM for %d lines; want at most 200", rows, fx.bigLines)
		}
		// a permalink past the first pages, opened before the count is
		// known: the head chain is walked to it
		b.open(t, srv.URL+"/#run=big&step=many&line=3500")
		b.waitRowWithin(t, 3500, "many line 3500:", 60*time.Second)
		b.waitFor(t, `document.querySelector(".row.hl") !== null && document.querySelector(".row.hl").dataset.line === "3500"`, 5*time.Second)
		t.Logf("%d lines: first line shown after %v, counted after %v, last line shown after %v; %v rows in the DOM",
			fx.bigLines, first.Round(time.Millisecond), counted.Round(time.Millisecond), time.Since(start).Round(time.Millisecond), rows)
	})

	if dir := os.Getenv("RUNLOG_SCREENSHOTS"); dir != "" {
		for _, name := range []string{"viewer-run.png", "viewer-ansi.png"} {
			data, err := os.ReadFile(filepath.Join(shots, name))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// chromium returns the browser's path, or skips the test when it is not
// installed, unless RUNLOG_REQUIRE_SERVERS is set (make test), then it
// fails.
func chromium(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("chromium")
	if err != nil {
		msg := "chromium is not installed (not on PATH): run tools/chromium.sh, which make test runs"
		if os.Getenv("RUNLOG_REQUIRE_SERVERS") != "" {
			t.Fatal(msg + "; RUNLOG_REQUIRE_SERVERS is set, so the browser tests must run")
		}
		t.Skip(msg)
	}
	return p
}

// --- the store ---

const (
	buildLines   = 2500
	ansiLine     = 5
	hostileFirst = 6
	needleLine   = 1234
	needle       = "needle-7f3a"
)

// hostileMessages are logged from line hostileFirst on; hostileShown is
// what the rows must show of them, as text.
var (
	hostileMessages = []string{
		`<script>alert(1)</script>`,
		`<img src=x onerror="alert(2)">`,
		`<a href="javascript:alert(3)">click</a> <iframe src="javascript:alert(5)"></iframe>`,
		"\x1b]0;pwned title\x07 osc title \x1b]8;;javascript:alert(4)\x1b\\hidden link\x1b]8;;\x1b\\",
		"\x1b]52;c;Y2xpcGJvYXJk\x07 clipboard \r overwrite \u202eevil\u202c \x00 nul",
	}
	hostileShown = []string{
		`<script>alert(1)</script>`,
		`<img src=x onerror="alert(2)">`,
		`<a href="javascript:alert(3)">click</a>`,
		`\x1b]0;pwned title\x07 osc title \x1b]8;;javascript:alert(4)\x1b\hidden link`,
		`\x1b]52;c;Y2xpcGJvYXJk\x07 clipboard \r overwrite \u202eevil\u202c \x00 nul`,
	}
)

type fixture struct {
	store    *otelstore.Store
	watch    context.Context // the running step's activation
	bigLines int
}

// newFixture writes run "web" (steps build: complete, with colours,
// hostile text and a needle; test: incomplete; deploy: damaged; watch:
// still running) and run "big" (one step of many lines).
func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	opts := otelstore.Options{Console: slog.DiscardHandler, NoSource: true, MinLevel: runlog.LevelDebug,
		BatchSize: 8192, QueueSize: 16384, ExportInterval: 200 * time.Millisecond}
	store, err := flavors.NewLocal(dir, false, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	fx := &fixture{store: store, bigLines: bigLines()}

	step := func(s runlog.Scope, n int, msg func(i int) string) context.Context {
		sctx, err := store.Activate(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= n; i++ {
			level := slog.LevelInfo
			switch {
			case i%50 == 0:
				level = slog.LevelError
			case i%10 == 0:
				level = slog.LevelWarn
			}
			slog.Log(sctx, level, msg(i), "i", i)
		}
		return sctx
	}
	end := func(sctx context.Context) {
		if err := store.Deactivate(sctx); err != nil {
			t.Fatal(err)
		}
	}

	end(step(runlog.Scope{RunID: "web", StepID: "build"}, buildLines, func(i int) string {
		m := fmt.Sprintf("build line %d: compiling package %d", i, i)
		switch {
		case i == ansiLine:
			m = fmt.Sprintf("build line %d: ansi: \x1b[31mRED\x1b[0m \x1b[1;32mBOLDGREEN\x1b[0m \x1b[38;5;208mORANGE256\x1b[0m "+
				"\x1b[38;2;10;20;250mTRUEBLUE\x1b[0m \x1b[4munder\x1b[24m \x1b[44mONBLUE\x1b[49m \x1b[2Jcleared", i)
		case i >= hostileFirst && i < hostileFirst+len(hostileMessages):
			m = fmt.Sprintf("build line %d: %s", i, hostileMessages[i-hostileFirst])
		case i == needleLine:
			m = fmt.Sprintf("build line %d: %s found", i, needle)
		}
		return m
	}))

	// incomplete: the end marker counts records that are not there (the
	// first batch's line is taken out of the file)
	small, err := flavors.NewLocal(dir, false, otelstore.Options{Console: slog.DiscardHandler, NoSource: true, BatchSize: 10})
	if err != nil {
		t.Fatal(err)
	}
	tctx, err := small.Activate(ctx, runlog.Scope{RunID: "web", StepID: "test"})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 40; i++ {
		slog.InfoContext(tctx, fmt.Sprintf("test line %d: ok", i))
	}
	if err := small.Deactivate(tctx); err != nil {
		t.Fatal(err)
	}
	editFile(t, layout.StepDir(dir, "web", "test"), func(b []byte) []byte {
		_, rest, _ := strings.Cut(string(b), "\n")
		return []byte(rest)
	})

	// damaged: a line that does not decode
	end(step(runlog.Scope{RunID: "web", StepID: "deploy"}, 20, func(i int) string { return fmt.Sprintf("deploy line %d: rolling out", i) }))
	editFile(t, layout.StepDir(dir, "web", "deploy"), func(b []byte) []byte { return append(b, "{not json\n"...) })

	// running: five lines now, more while the test follows it
	fx.watch = step(runlog.Scope{RunID: "web", StepID: "watch"}, 5, func(i int) string { return fmt.Sprintf("watch line %d: waiting", i) })

	palette := colourLines()
	end(step(runlog.Scope{RunID: "colours", StepID: "palette"}, len(palette), func(i int) string { return palette[i-1] }))

	start := time.Now()
	end(step(runlog.Scope{RunID: "big", StepID: "many"}, fx.bigLines, func(i int) string {
		return fmt.Sprintf("many line %d: \x1b[32mok\x1b[0m step %d of a long log", i, i)
	}))
	t.Logf("wrote %d lines in %v", fx.bigLines, time.Since(start).Round(time.Millisecond))
	t.Cleanup(func() { store.Deactivate(fx.watch) })
	return fx
}

// colourLines is what a build prints in colour, for the screenshot of
// docs/img/viewer-ansi.png.
func colourLines() []string {
	var l []string
	add := func(f string, a ...any) { l = append(l, fmt.Sprintf(f, a...)) }
	add("\x1b[1mrunlog viewer: ANSI colours, rendered as text-safe spans\x1b[0m")
	var b strings.Builder
	for i := range 8 {
		fmt.Fprintf(&b, "\x1b[%dm color%d \x1b[0m", 30+i, i)
	}
	add("16 colours  %s", b.String())
	b.Reset()
	for i := range 8 {
		fmt.Fprintf(&b, "\x1b[%dm bright%d \x1b[0m", 90+i, i+8)
	}
	add("            %s", b.String())
	b.Reset()
	for i := range 8 {
		fmt.Fprintf(&b, "\x1b[30;%dm  bg%d  \x1b[0m", 40+i, i)
	}
	add("background  %s", b.String())
	b.Reset()
	for i := 16; i < 232; i += 4 {
		fmt.Fprintf(&b, "\x1b[48;5;%dm \x1b[0m", i)
	}
	add("256 colours %s", b.String())
	b.Reset()
	for i := range 54 {
		fmt.Fprintf(&b, "\x1b[48;2;%d;%d;%dm \x1b[0m", 255-i*4, 60+i*3, i*4)
	}
	add("truecolor   %s", b.String())
	add("styles      \x1b[1mbold\x1b[0m \x1b[2mdim\x1b[0m \x1b[3mitalic\x1b[0m \x1b[4munderline\x1b[0m \x1b[9mstrike\x1b[0m \x1b[7minverse\x1b[0m \x1b[1;4;38;2;255;170;0mall at once\x1b[0m")
	add("")
	add("\x1b[36m$\x1b[0m go test ./...")
	add("\x1b[32mok\x1b[0m  \tgithub.com/example/app/api\t0.412s")
	add("\x1b[32mok\x1b[0m  \tgithub.com/example/app/store\t1.930s")
	add("\x1b[31m--- FAIL:\x1b[0m TestCheckout (0.02s)")
	add("    checkout_test.go:41: total = \x1b[1;31m41.99\x1b[0m; want \x1b[1;32m42.00\x1b[0m")
	add("\x1b[1;32m✓\x1b[0m 118 passed, \x1b[1;31m✗\x1b[0m 1 failed, \x1b[33m⚠\x1b[0m 2 skipped")
	add("\x1b[33mwarning:\x1b[0m unused variable \x1b[1m`retries`\x1b[0m")
	add("not colours, shown escaped: \x1b[2J clear screen, \x1b]0;title\x07 set title, progress 50%%\rprogress 100%%")
	return l
}

// bigLines is the length of the long step: 1,000,000 lines, written in
// about 2 s. Under the race detector, 200,000: with a million it makes
// the test take over 2 minutes on 2 cores (measured: writing 29 s, the
// steps listing's read of the run 40 s, the local store's backward read
// of the last page 33 s), so make test (-race) checks the same behaviour
// on a fifth of it, and go test without -race on the whole million.
func bigLines() int {
	if raceEnabled {
		return 200000
	}
	return 1000000
}

// editFile rewrites the one activation file in dir. edit sees its OTLP
// JSON lines: a file of zstd frames (the local format) is decompressed
// first and written back as plain lines, the old format, which the store
// still reads.
func editFile(t *testing.T, dir string, edit func([]byte) []byte) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*"+layout.Ext))
	if err != nil || len(files) != 1 {
		t.Fatalf("activation files in %s: %v, %v; want one", dir, files, err)
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if framing.Sniff(b) == framing.Zstd {
		if b, err = framing.Decompress(nil, b); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(files[0], edit(b), 0o644); err != nil {
		t.Fatal(err)
	}
}

// --- the browser ---

type browser struct {
	ctx     context.Context
	dialogs atomic.Int32

	mu         sync.Mutex
	exceptions []string // uncaught in the page since the last healthy
}

// healthy fails t if the page threw, or broke its Content-Security-Policy
// (an inline style or script, say), since the last call.
func (b *browser) healthy(t *testing.T) {
	t.Helper()
	b.mu.Lock()
	ex := b.exceptions
	b.exceptions = nil
	b.mu.Unlock()
	if len(ex) > 0 {
		t.Errorf("the page threw: %q", ex)
	}
	if csp := b.eval(t, `(window.__csp || []).splice(0)`); len(csp.([]any)) > 0 {
		t.Errorf("Content-Security-Policy violations: %v", csp)
	}
}

func newBrowser(t *testing.T, bin string) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1200, 720),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelA() })
	b := &browser{ctx: ctx}
	// every dialog counts, and is dismissed so that nothing hangs
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*cdpruntime.EventExceptionThrown); ok {
			b.mu.Lock()
			d := e.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			b.exceptions = append(b.exceptions, fmt.Sprintf("%s at %s:%d", msg, d.URL, d.LineNumber+1))
			b.mu.Unlock()
		}
		if _, ok := ev.(*cdppage.EventJavascriptDialogOpening); ok {
			b.dialogs.Add(1)
			go chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
				_, err := cdp.Call(ctx, t, cdppage.HandleJavaScriptDialog, cdppage.HandleJavaScriptDialogParams{})
				return err
			}))
		}
	}); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	// a trap set before the viewer's scripts run
	b.do(t, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{
			Source: `window.__alerts = 0;
				window.alert = window.confirm = window.prompt = function () { window.__alerts++; };
				window.__csp = [];
				document.addEventListener("securitypolicyviolation", (e) => window.__csp.push(e.violatedDirective + " " + e.blockedURI));`})
		return err
	}))
	return b
}

func (b *browser) do(t *testing.T, a ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, a...); err != nil {
		t.Fatal(err)
	}
}

// open loads url afresh (a change of fragment alone would not reload).
func (b *browser) open(t *testing.T, url string) {
	t.Helper()
	b.do(t, chromedp.Navigate("about:blank"), chromedp.Navigate(url))
}

func (b *browser) eval(t *testing.T, js string) any {
	t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[any](js))
	if err != nil {
		t.Fatalf("%v\nin: %s", err, js)
	}
	return v
}

func (b *browser) evalAsync(t *testing.T, js string) any {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[any](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%v\nin: %s", err, js)
	}
	return v
}

// waitFor waits until the expression is true; on a timeout it says what
// the page showed.
func (b *browser) waitFor(t *testing.T, js string, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, d+5*time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingTimeout(d), chromedp.WithPollingInterval(50*time.Millisecond)))
	if err != nil {
		state, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`location.hash + "\n" +
			(document.querySelector(".banner") || {}).textContent + "\n" +
			((document.querySelector(".toolbar .status") || {}).textContent || "") + "\n" +
			[...document.querySelectorAll(".row")].slice(0, 5).map((r) => r.textContent).join("\n")`))
		t.Fatalf("waiting for %s: %v\npage:\n%s", js, err, state)
	}
}

func (b *browser) waitRow(t *testing.T, n int, text string) {
	t.Helper()
	b.waitRowWithin(t, n, text, 20*time.Second)
}

func (b *browser) waitRowWithin(t *testing.T, n int, text string, d time.Duration) {
	t.Helper()
	b.waitFor(t, fmt.Sprintf(`(() => { const r = document.querySelector('.row[data-line="%d"]:not(.loading)');
		return !!r && r.textContent.includes(%q); })()`, n, text), d)
}

func (b *browser) shot(t *testing.T, dir, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return "(missing)"
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, fmt.Sprint(x))
	}
	return out
}

func commas(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
