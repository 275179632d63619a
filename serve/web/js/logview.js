// The log pane: a virtualized list of entries. Only the rows on screen,
// plus a margin, are in the DOM, as real text (so the browser's find
// works on what is shown); a spacer gives the scroller the height of the
// whole log. Rows have one fixed height, so a line's position is
// arithmetic: past what the browser can hold (a few million pixels), the
// scroll position is scaled to the line index instead.
//
// Entries come in pages of PAGE lines, fetched on demand by cursor as the
// rows they hold come into view, and kept in a bounded cache (least
// recently used pages are dropped and fetched again if needed). Page k of
// the head chain holds lines [k*PAGE, (k+1)*PAGE), fetched forward with
// the cursor that page k-1 returned. When the number of lines is known
// exactly (a finished step, no filter), the last lines are read from the
// end instead: page j of the tail chain holds the PAGE lines ending
// j*PAGE lines before the last, fetched backward. A line far from
// both ends is reached by walking the chain page by page (cursors are
// opaque: there is no seek); the cursors of every page walked are kept.

import * as api from "./api.js";
import { render } from "./ansi.js";
import { el, escape } from "./text.js";

export const PAGE = 1000;
const CACHE_PAGES = 40; // 40,000 entries at most
const MARGIN = 20; // rows kept in the DOM above and below the screen
const MAX_PX = 8_000_000; // tallest spacer; past it the position is scaled
const TAIL_PAGES = 10; // lines within 10,000 of the end are read backward

function cmpEntry(a, b) {
  if (a.timestamp !== b.timestamp) return a.timestamp < b.timestamp ? -1 : 1;
  return (a.sequence || 0) - (b.sequence || 0);
}

// timeText shows an RFC 3339 timestamp as HH:MM:SS.mmm in UTC.
function timeText(ts) {
  const m = /T(\d\d:\d\d:\d\d)(\.\d{1,3})?/.exec(ts || "");
  return m ? m[1] + (m[2] || ".").padEnd(4, "0") : String(ts || "");
}

function levelClass(level) {
  const name = String(level || "").replace(/[0-9]+$/, "").toLowerCase();
  return ["trace", "debug", "info", "warn", "error", "fatal"].includes(name) ? "lv-" + name : "lv-unset";
}

export class LogView {
  // opts: run, filter ({step, source, level, search}), total (lines the
  // steps listing counts, or null), exact (whether total is exact),
  // showStep (a column for the step: the whole run is shown), link(n)
  // (the permalink of line n, 1-based), onSelect(entry, n), onStatus(text).
  constructor(parent, opts) {
    this.o = opts;
    this.run = opts.run;
    this.filter = opts.filter;
    this.exact = !!opts.exact && opts.total !== null;
    this.hint = opts.total || 0;
    this.head = [""]; // head[k]: cursor of page k ("" is the start)
    this.headEnd = -1; // the last head page, once a page said there is no more
    this.headEndLen = 0;
    this.tail = [null]; // tail[j]: cursor of tail page j (null: the end)
    this.cache = new Map(); // "h3" / "t5" -> entries (oldest first)
    this.pending = new Set();
    this.wanted = [];
    this.busy = false;
    this.version = 0;
    this.highlight = 0;
    this.selected = 0;
    this.closed = false;
    this.following = false;
    this.lastCursor = "";

    this.scroller = el("div", "log");
    this.scroller.tabIndex = 0;
    this.spacer = el("div", "spacer");
    this.viewport = el("div", "viewport");
    this.rows = el("div", "rows");
    this.viewport.appendChild(this.rows);
    this.spacer.appendChild(this.viewport);
    this.scroller.appendChild(this.spacer);
    parent.appendChild(this.scroller);
    this.rowH = this.measure();

    this.onScroll = () => this.schedule();
    this.scroller.addEventListener("scroll", this.onScroll, { passive: true });
    for (const ev of ["wheel", "pointerdown", "keydown"]) {
      this.scroller.addEventListener(ev, () => { this.target = 0; }, { passive: true });
    }
    this.resize = new ResizeObserver(() => this.schedule());
    this.resize.observe(this.scroller);
    this.rows.addEventListener("click", (ev) => {
      const row = ev.target.closest(".row");
      if (!row || ev.target.closest("a")) return;
      this.select(Number(row.dataset.line));
    });
    this.schedule();
  }

  measure() {
    const probe = el("div", "row", "0");
    this.rows.appendChild(probe);
    const h = probe.getBoundingClientRect().height || 18;
    probe.remove();
    return h;
  }

  close() {
    this.closed = true;
    if (this.stopStream) this.stopStream();
    this.resize.disconnect();
    this.scroller.remove();
  }

  // known sets the number of lines, once the steps listing tells it
  // (it reads the whole run, so it may come after the first pages).
  known(total, exact) {
    if (this.following || total === null) return;
    this.hint = total;
    this.exact = !!exact && this.headEnd < 0;
    this.version++;
    this.schedule();
  }

  // total is the number of lines the view shows (rows, loaded or not).
  get total() {
    if (this.headEnd >= 0) return this.headEnd * PAGE + this.headEndLen;
    if (this.exact) return this.hint;
    return Math.max(this.hint, this.head.length * PAGE);
  }

  // --- geometry ---

  geometry() {
    const viewH = this.scroller.clientHeight;
    const total = this.total;
    const totalPx = Math.min(total * this.rowH, MAX_PX);
    const scrollable = Math.max(0, totalPx - viewH);
    const linesScrollable = Math.max(0, total - viewH / this.rowH);
    return { viewH, total, totalPx, scrollable, linesScrollable };
  }

  firstLine(g) {
    if (g.scrollable <= 0) return 0;
    return (Math.min(this.scroller.scrollTop, g.scrollable) / g.scrollable) * g.linesScrollable;
  }

  atBottom() {
    const g = this.geometry();
    return this.scroller.scrollTop >= g.scrollable - 2;
  }

  // scrollToLine brings line n (1-based) into view, in the middle.
  scrollToLine(n) {
    const g = this.geometry();
    this.spacer.style.height = Math.max(g.totalPx, g.viewH) + "px";
    const target = Math.min(Math.max(n - 1 - g.viewH / this.rowH / 2 + 0.5, 0), g.linesScrollable);
    this.scroller.scrollTop = g.linesScrollable > 0 ? (target / g.linesScrollable) * g.scrollable : 0;
    this.schedule();
  }

  // goto shows line n (1-based), highlighted unless mark is false: where
  // it is when it is on screen, else in the middle.
  goto(n, mark = true) {
    if (mark) this.highlight = n;
    this.target = 0;
    const g = this.geometry();
    if (n > g.total && !this.exact && this.headEnd < 0) {
      // past what is known yet: go there once the count or the head
      // chain reaches it (see draw)
      this.target = n;
      this.schedule();
      return;
    }
    const first = this.firstLine(g);
    const rows = g.viewH / this.rowH;
    if (n - 1 < first || n > first + rows - 1) this.scrollToLine(n);
    this.schedule();
  }

  scrollToEnd() {
    const g = this.geometry();
    this.spacer.style.height = Math.max(g.totalPx, g.viewH) + "px";
    this.scroller.scrollTop = g.scrollable;
    this.schedule();
  }

  schedule() {
    if (this.frame || this.closed) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  draw() {
    let walkTo = null; // the head page of a pending goto
    if (this.target) {
      const n = this.target;
      if (n <= this.total || this.exact || this.headEnd >= 0) {
        this.target = 0;
        this.goto(n, false);
      } else {
        walkTo = "h" + Math.floor((n - 1) / PAGE);
      }
    }
    const g = this.geometry();
    this.spacer.style.height = Math.max(g.totalPx, g.viewH) + "px";
    this.viewport.style.height = g.viewH + "px";
    const first = this.firstLine(g);
    const top = Math.floor(first);
    const shown = Math.ceil(g.viewH / this.rowH) + 1;
    const from = Math.max(0, top - MARGIN);
    const to = Math.min(g.total, top + shown + MARGIN);
    this.rows.style.transform = "translateY(" + ((from - first) * this.rowH).toFixed(2) + "px)";
    const key = from + ":" + to + ":" + this.version + ":" + this.highlight + ":" + this.selected;
    const wanted = new Set();
    if (key !== this.drawn) {
      this.drawn = key;
      const nodes = [];
      for (let i = from; i < to; i++) {
        const e = this.entry(i, wanted);
        nodes.push(e ? this.row(i, e) : this.placeholder(i));
      }
      this.rows.replaceChildren(...nodes);
    } else {
      for (let i = from; i < to; i++) this.entry(i, wanted);
    }
    // fetch what is on screen first, then the margin, then one page ahead
    const ahead = Math.min(g.total - 1, to + PAGE / 2);
    if (ahead >= to) this.entry(ahead, wanted);
    const keys = [...wanted];
    if (walkTo) keys.unshift(walkTo);
    this.want(keys, walkTo ? this.target - 1 : top);
  }

  // --- data ---

  // where returns the page key and the index in it of line i (0-based).
  where(i) {
    const k = Math.floor(i / PAGE);
    const total = this.total;
    const j = Math.floor((total - 1 - i) / PAGE);
    // The tail chain serves the last TAIL_PAGES pages (and any it has
    // walked already): a backward page can cost the store more than a
    // forward one (the local store sorts the whole step for it), so
    // a line further up is reached from the head.
    const useTail = this.exact && this.headEnd < 0 && i >= total / 2 &&
      (j < TAIL_PAGES || j < this.tail.length - 1 || this.cache.has("t" + j)) &&
      !this.cache.has("h" + k) && this.head.length <= k;
    if (!useTail) return { key: "h" + k, k, at: i - k * PAGE, tail: false };
    const end = total - j * PAGE; // exclusive
    const len = Math.min(PAGE, end);
    return { key: "t" + j, k: j, at: len - (end - i), tail: true };
  }

  entry(i, wanted) {
    const w = this.where(i);
    const page = this.cache.get(w.key);
    if (page) {
      this.cache.delete(w.key); // most recently used last
      this.cache.set(w.key, page);
      return page[w.at];
    }
    if (wanted) wanted.add(w.key);
    return undefined;
  }

  want(keys, near) {
    this.wanted = keys;
    this.near = near;
    this.pump();
  }

  // pump fetches one page at a time: the wanted page nearest the screen,
  // or the next page of the walk towards it.
  async pump() {
    if (this.busy || this.closed) return;
    const keys = this.wanted.filter((k) => !this.cache.has(k));
    if (!keys.length) {
      if (this.following && !this.stopStream && this.headEnd >= 0) this.startStream();
      return;
    }
    this.busy = true;
    try {
      const key = keys[0];
      const tail = key[0] === "t";
      const n = Number(key.slice(1));
      const chain = tail ? this.tail : this.head;
      // the nearest page before it whose cursor is known
      const from = Math.min(n, chain.length - 1);
      if (from < n) this.status("reading page " + (from + 1) + " of the way to line " + (this.near + 1).toLocaleString() + "…");
      await this.fetchPage(tail, from);
      if (from < n) this.status("");
    } catch (err) {
      if (!this.closed && err.name !== "AbortError") {
        this.failed = err;
        if (this.o.onError) this.o.onError(err);
        this.busy = false;
        return; // stop: the error is shown; a new view retries
      }
    }
    this.busy = false;
    if (!this.closed) this.schedule();
  }

  async fetchPage(tail, n) {
    const f = { ...this.filter, limit: PAGE };
    if (tail) {
      f.before = this.tail[n] || ""; // "": the newest page
    } else if (this.head[n]) {
      f.after = this.head[n];
    }
    const page = await api.logs(this.run, f);
    if (this.closed) return;
    let items = page.items || [];
    if (items.length > 1 && cmpEntry(items[0], items[items.length - 1]) > 0) items = items.slice().reverse();
    const more = !!page.more && items.length > 0;
    if (tail) {
      if (this.tail.length === n + 1) this.tail.push(page.before || "");
      this.put("t" + n, items);
      if (!more) { // the tail reached the start: now the count is known exactly
        this.hint = n * PAGE + items.length;
        if (items.length < PAGE || n === 0) this.exact = true;
      }
    } else {
      if (this.head.length === n + 1 && more) this.head.push(page.after || "");
      this.put("h" + n, items);
      if (n === 0 && !items.length && !this.following) {
        const f = this.filter;
        this.status(f.level || f.search ? "no entries match the filters" : "no entries (yet)");
      }
      if (!more) {
        this.headEnd = n;
        this.headEndLen = items.length;
        this.lastCursor = page.after || this.head[n];
        this.exact = true;
      }
    }
    this.version++;
  }

  put(key, items) {
    this.cache.set(key, items);
    while (this.cache.size > CACHE_PAGES) this.cache.delete(this.cache.keys().next().value);
  }

  status(text) { if (this.o.onStatus) this.o.onStatus(text); }

  // --- follow ---

  // follow(on) tails the log: the head chain is read to its end, then new
  // entries stream in and are appended; the view stays at the bottom
  // while it is there.
  follow(on) {
    this.following = on;
    if (!on) {
      if (this.stopStream) this.stopStream();
      this.stopStream = null;
      return;
    }
    this.exact = false; // the count grows: read from the head
    if (this.headEnd < 0) {
      // walk to the end of the head chain first
      this.wanted = [];
      this.walkToEnd();
    } else {
      this.startStream();
    }
  }

  async walkToEnd() {
    while (!this.closed && this.following && this.headEnd < 0) {
      if (this.busy) { await new Promise((r) => setTimeout(r, 50)); continue; }
      this.busy = true;
      try {
        await this.fetchPage(false, this.head.length - 1);
      } catch (err) {
        this.busy = false;
        if (this.o.onError) this.o.onError(err);
        return;
      }
      this.busy = false;
    }
    if (this.closed || !this.following) return;
    this.scrollToEnd();
    this.startStream();
  }

  startStream() {
    if (this.stopStream || this.closed) return;
    this.stopStream = api.stream(this.run, { ...this.filter, after: this.lastCursor }, {
      onEntry: (item, cursor) => this.append(item, cursor),
      onEnd: () => {
        this.stopStream = null;
        this.following = false;
        if (this.o.onEnd) this.o.onEnd();
      },
      onError: (err) => { if (this.o.onError) this.o.onError(err); },
    });
  }

  append(item, cursor) {
    const bottom = this.atBottom();
    let k = this.headEnd;
    let page = this.cache.get("h" + k);
    if (!page) { // evicted: a placeholder until it is fetched again
      page = null;
    }
    if (this.headEndLen === PAGE) { // the last page is full: a new one
      this.head.push(this.lastCursor);
      k = ++this.headEnd;
      this.headEndLen = 0;
      page = [];
      this.cache.set("h" + k, page);
    }
    if (page) page.push(item);
    this.headEndLen++;
    this.lastCursor = cursor;
    this.version++;
    if (bottom) this.scrollToEnd();
    else this.schedule();
  }

  // --- rows ---

  placeholder(i) {
    const r = el("div", "row loading");
    r.dataset.line = String(i + 1);
    r.appendChild(this.lineLink(i + 1));
    r.appendChild(el("span", "msg", this.failed ? "not loaded: " + this.failed.message : "…"));
    return r;
  }

  lineLink(n) {
    const a = el("a", "ln", String(n));
    a.href = this.o.link(n);
    return a;
  }

  row(i, e) {
    const n = i + 1;
    const r = el("div", "row");
    r.dataset.line = String(n);
    if (n === this.highlight) r.classList.add("hl");
    if (n === this.selected) r.classList.add("sel");
    r.appendChild(this.lineLink(n));
    const ts = el("span", "ts", timeText(e.timestamp));
    ts.title = escape(e.timestamp || "");
    r.appendChild(ts);
    r.appendChild(el("span", "lv " + levelClass(e.level), String(e.level || "").padEnd(5)));
    if (this.o.showStep) r.appendChild(el("span", "sid", e.step_id || "(run)"));
    const msg = el("span", "msg");
    render(msg, e.message || "");
    r.appendChild(msg);
    return r;
  }

  // --- selection ---

  select(n) {
    this.selected = n;
    const e = this.entry(n - 1);
    if (e && this.o.onSelect) this.o.onSelect(e, n);
    this.schedule();
  }
}
