// runlog's web viewer: the runs list, and a run's page with its steps and
// log. State lives in the address's fragment, so every view is a link:
//
//   #run=R                      the whole run
//   #run=R&step=S&line=N        step S, scrolled to line N, highlighted
//   &level=warn&search=text     filters (server-side), kept in permalinks
//   #token=T                    the API's bearer token (then removed)

import * as api from "./api.js";
import { LogView } from "./logview.js";
import { el, escape } from "./text.js";

const main = document.getElementById("main");
const banner = document.getElementById("banner");
const crumb = document.getElementById("crumb");

const FIELDS = ["run", "step", "source", "level", "search", "line"];
let page = null; // the run page shown: {key, run, view, ...}

// --- the address ---

function readHash() {
  const p = new URLSearchParams(location.hash.slice(1));
  const t = p.get("token");
  if (t !== null) {
    api.setToken(t);
    p.delete("token");
    const rest = p.toString();
    history.replaceState(null, "", location.pathname + location.search + (rest ? "#" + rest : ""));
  }
  const s = {};
  for (const f of FIELDS) s[f] = p.get(f) || "";
  s.line = Number(s.line) > 0 ? Math.floor(Number(s.line)) : 0;
  return s;
}

export function hashOf(s) {
  const p = new URLSearchParams();
  for (const f of FIELDS) if (s[f]) p.set(f, String(s[f]));
  return "#" + p.toString();
}

// --- messages ---

function showError(err) {
  banner.replaceChildren();
  banner.hidden = false;
  banner.className = "banner error";
  if (err && err.status === 401) {
    askToken(err);
    return;
  }
  banner.appendChild(el("strong", "", err && err.kind ? err.kind + ": " : "error: "));
  banner.appendChild(el("span", "", (err && err.message) || String(err)));
  if (err && err.hint) banner.appendChild(el("div", "hint", err.hint));
}

function clearError() {
  banner.hidden = true;
  banner.replaceChildren();
}

function askToken(err) {
  const form = el("form", "token");
  form.appendChild(el("span", "", api.token() ? "The token was refused. " : "This server needs a token. "));
  if (err && err.message) form.appendChild(el("span", "hint", err.message));
  const input = el("input");
  input.type = "password";
  input.name = "token";
  input.placeholder = "bearer token";
  input.autocomplete = "off";
  form.appendChild(input);
  form.appendChild(el("button", "", "Use token"));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    api.setToken(input.value.trim());
    clearError();
    route(true);
  });
  banner.appendChild(form);
  input.focus();
}

// --- the runs list ---

function fmtTime(t) {
  if (!t || t.startsWith("0001-")) return "";
  return t.replace("T", " ").replace(/\.\d+/, "").replace("Z", " UTC");
}

function fmtCount(n) {
  return typeof n === "number" && n >= 0 ? n.toLocaleString("en-US") : "";
}

function openRunBox(why) {
  const form = el("form", "openrun");
  if (why) form.appendChild(el("p", "hint", why));
  const input = el("input");
  input.name = "run";
  input.placeholder = "run id";
  input.required = true;
  form.appendChild(input);
  form.appendChild(el("button", "", "Open run"));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    location.hash = hashOf({ run: input.value.trim() });
  });
  return form;
}

async function showRuns() {
  closePage();
  document.title = "runlog";
  crumb.replaceChildren(el("span", "", "runs"));
  const box = el("section", "runs");
  main.replaceChildren(box);
  box.appendChild(el("h1", "", "Runs"));
  const table = el("table", "runlist");
  const head = el("tr");
  for (const h of ["run", "first record", "last record", "steps", "records"]) head.appendChild(el("th", "", h));
  table.appendChild(head);
  const more = el("button", "more", "More runs");
  more.hidden = true;
  box.appendChild(table);
  box.appendChild(more);
  let cursor = "";
  const load = async () => {
    more.disabled = true;
    let res;
    try {
      res = await api.listRuns(cursor, 100);
    } catch (err) {
      if (err.status === 501 || err.status === 404) {
        table.remove();
        more.remove();
        box.appendChild(openRunBox("This store cannot list its runs (" + err.message + "). Type a run id to open it."));
        return;
      }
      showError(err);
      return;
    }
    for (const r of res.runs || []) {
      const tr = el("tr");
      const td = el("td");
      const a = el("a", "run", r.run_id);
      a.href = hashOf({ run: r.run_id });
      td.appendChild(a);
      tr.appendChild(td);
      tr.appendChild(el("td", "", fmtTime(r.first)));
      tr.appendChild(el("td", "", fmtTime(r.last)));
      tr.appendChild(el("td", "num", fmtCount(r.steps)));
      tr.appendChild(el("td", "num", fmtCount(r.records)));
      table.appendChild(tr);
    }
    if (!(res.runs || []).length && !cursor) {
      box.appendChild(el("p", "hint", "No runs in this store yet."));
    }
    cursor = res.next || "";
    more.hidden = !res.more;
    more.disabled = false;
  };
  more.addEventListener("click", load);
  box.appendChild(openRunBox(""));
  await load();
}

// --- a run's page ---

const RANK = { damaged: 5, running: 4, incomplete: 3, "not accounted": 2, complete: 1 };

// groupSteps turns the listing's activations into steps, in the order
// of their first record.
function groupSteps(acts) {
  const by = new Map();
  for (const a of acts) {
    const id = a.step_id || "";
    if (!by.has(id)) by.set(id, { id, acts: [] });
    by.get(id).acts.push(a);
  }
  const steps = [...by.values()];
  for (const s of steps) {
    s.acts.sort((a, b) => (a.attempt || 0) - (b.attempt || 0) || String(a.first).localeCompare(String(b.first)));
    const lastAttempt = Math.max(...s.acts.map((a) => a.attempt || 0));
    let status = "complete";
    for (const a of s.acts) {
      if ((a.attempt || 0) !== lastAttempt && a.status !== "damaged") continue;
      if ((RANK[a.status] || 0) > (RANK[status] || 0)) status = a.status;
    }
    s.status = status;
    s.received = s.acts.reduce((n, a) => n + (a.received ?? a.records ?? 0), 0);
    s.missing = s.acts.reduce((n, a) => n + (a.missing || 0), 0);
    s.attempts = new Set(s.acts.map((a) => a.attempt || 0)).size;
    s.first = s.acts.map((a) => a.first).filter(Boolean).sort()[0] || "";
    s.running = s.acts.some((a) => a.status === "running");
    s.exact = s.acts.every((a) => a.status === "complete" || a.status === "incomplete");
  }
  steps.sort((a, b) => (a.id === "" ? -1 : b.id === "" ? 1 : String(a.first).localeCompare(String(b.first))));
  return steps;
}

function closePage() {
  if (page) {
    if (page.view) page.view.close();
    clearInterval(page.timer);
  }
  page = null;
}

function viewKey(s) {
  return JSON.stringify([s.run, s.step, s.source, s.level, s.search]);
}

function badge(status) {
  return el("span", "badge st-" + (RANK[status] ? status.replace(/ /g, "-") : "unknown"), status || "unknown");
}

function renderSteps(p, s) {
  const list = p.stepList;
  list.replaceChildren();
  const all = el("li", "step" + (s.step ? "" : " current"));
  all.dataset.step = "";
  const a0 = el("a", "", "whole run");
  a0.href = hashOf({ run: s.run, level: s.level, search: s.search });
  all.appendChild(a0);
  const total = p.steps.reduce((n, st) => n + st.received, 0);
  all.appendChild(el("span", "count", fmtCount(total) + " lines"));
  list.appendChild(all);
  for (const st of p.steps) {
    if (st.id === "") continue; // run-level records are in the whole run
    const li = el("li", "step" + (st.id === s.step ? " current" : ""));
    li.dataset.step = escape(st.id);
    li.dataset.status = st.status;
    const a = el("a", "", st.id);
    a.href = hashOf({ run: s.run, step: st.id, level: s.level, search: s.search });
    li.appendChild(a);
    li.appendChild(badge(st.status));
    let info = fmtCount(st.received) + " lines";
    if (st.missing) info += ", " + fmtCount(st.missing) + " missing";
    if (st.attempts > 1) info += ", " + st.attempts + " attempts";
    li.appendChild(el("span", "count", info));
    const acts = el("ul", "acts");
    for (const act of st.acts) {
      const ai = el("li", "act");
      ai.dataset.status = act.status;
      let what = act.source || "step";
      if (act.attempt !== undefined) what += " · attempt " + act.attempt;
      ai.appendChild(el("span", "", what));
      ai.appendChild(badge(act.status));
      let t = fmtCount(act.received ?? act.records);
      if (act.missing) t += " (" + fmtCount(act.missing) + " missing)";
      if (act.cause) t += " · " + act.cause;
      if (act.result) t += " (" + act.result + ")";
      ai.appendChild(el("span", "count", t));
      ai.title = escape(act.activation_id || "");
      acts.appendChild(ai);
    }
    li.appendChild(acts);
    list.appendChild(li);
  }
}

function showDetail(p, e, n) {
  const d = p.detail;
  d.replaceChildren();
  d.hidden = false;
  const close = el("button", "close", "×");
  close.title = "close (Esc)";
  close.addEventListener("click", () => { d.hidden = true; });
  d.appendChild(close);
  d.appendChild(el("h3", "", "line " + n));
  const dl = el("dl");
  const add = (k, v) => {
    if (v === undefined || v === null || v === "") return;
    dl.appendChild(el("dt", "", k));
    dl.appendChild(el("dd", "", String(v)));
  };
  for (const k of ["message", "timestamp", "level", "name", "run_id", "step_id", "source", "attempt",
    "activation_id", "sequence", "id", "chunk_index", "total_chunks", "module", "filename", "lineno", "trace_id", "span_id"]) {
    add(k, e[k]);
  }
  for (const k of Object.keys(e.attributes || {}).sort()) add(k, e.attributes[k]);
  d.appendChild(dl);
}

async function showRun(s, force) {
  const key = viewKey(s);
  if (page && page.key === key && !force) {
    // the same view: only the line changed
    if (s.line) page.view.goto(s.line);
    return;
  }
  closePage();
  document.title = "runlog · " + escape(s.run) + (s.step ? " · " + escape(s.step) : "");
  crumb.replaceChildren();
  const runs = el("a", "", "runs");
  runs.href = "#";
  crumb.appendChild(runs);
  crumb.appendChild(el("span", "sep", "/"));
  const rl = el("a", "runid", s.run);
  rl.href = hashOf({ run: s.run });
  crumb.appendChild(rl);
  if (s.step) {
    crumb.appendChild(el("span", "sep", "/"));
    crumb.appendChild(el("span", "stepid", s.step));
  }

  const p = { key, s, steps: [] };
  page = p;
  const wrap = el("div", "runpage");
  const side = el("aside", "sidebar");
  side.appendChild(el("h2", "", "Steps"));
  p.stepList = el("ul", "steps");
  side.appendChild(p.stepList);
  const pane = el("section", "logpane");
  const bar = el("form", "toolbar");
  const level = el("select");
  level.name = "level";
  level.title = "lowest level shown";
  for (const l of ["", "trace", "debug", "info", "warn", "error", "fatal"]) {
    const o = el("option", "", l || "all levels");
    o.value = l;
    level.appendChild(o);
  }
  level.value = s.level;
  const search = el("input", "search");
  search.type = "search";
  search.name = "search";
  search.placeholder = "search the log (server-side; / to focus)";
  search.value = s.search;
  const go = el("button", "", "Search");
  const follow = el("label", "follow");
  const fbox = el("input");
  fbox.type = "checkbox";
  fbox.name = "follow";
  follow.appendChild(fbox);
  follow.appendChild(document.createTextNode(" follow"));
  follow.hidden = true;
  const f = { step: s.step, source: s.source, level: s.level, search: s.search };
  const dl = el("a", "download", "download");
  // the download is the whole log of the step (or run), not the filtered view
  const whole = { step: s.step, source: s.source };
  dl.title = "the whole log as text";
  dl.href = api.downloadURL(s.run, { ...whole, format: "text" });
  dl.setAttribute("download", "");
  const dlj = el("a", "download", "jsonl");
  dlj.title = "the whole log as JSON lines";
  dlj.href = api.downloadURL(s.run, { ...whole, format: "jsonl" });
  dlj.setAttribute("download", "");
  for (const a of [dl, dlj]) {
    a.addEventListener("click", (ev) => {
      if (!api.token()) return; // a plain link streams it
      ev.preventDefault();
      api.download(s.run, { ...whole, format: a === dl ? "text" : "jsonl" }).catch(showError);
    });
  }
  p.statusEl = el("span", "status");
  bar.append(level, search, go, follow, dl, dlj, p.statusEl);
  const apply = () => {
    location.hash = hashOf({ ...s, level: level.value, search: search.value, line: 0 });
  };
  bar.addEventListener("submit", (ev) => { ev.preventDefault(); apply(); });
  level.addEventListener("change", apply);
  pane.appendChild(bar);
  const logwrap = el("div", "logwrap");
  pane.appendChild(logwrap);
  p.detail = el("div", "detail");
  p.detail.hidden = true;
  pane.appendChild(p.detail);
  wrap.append(side, pane);
  main.replaceChildren(wrap);

  const filtered = !!(s.level || s.search || s.source);
  // The log starts at once; the steps listing reads the whole run (as
  // costly as a download), so the count and the sidebar come when it
  // answers.
  p.view = new LogView(logwrap, {
    run: s.run,
    filter: f,
    total: null,
    exact: false,
    showStep: !s.step,
    link: (n) => hashOf({ ...s, line: n }),
    onSelect: (e, n) => showDetail(p, e, n),
    onStatus: (t) => { p.statusEl.textContent = t; },
    onError: showError,
    onEnd: () => {
      fbox.checked = false;
      follow.hidden = true;
      p.statusEl.textContent = "the step ended";
      refreshSteps(p);
    },
  });
  p.follow = fbox;
  if (s.line) p.view.goto(s.line);
  p.stepList.appendChild(el("li", "hint", "reading the run…"));

  let acts;
  try {
    acts = await api.steps(s.run);
  } catch (err) {
    showError(err);
    acts = [];
  }
  if (page !== p) return;
  p.steps = groupSteps(acts);
  renderSteps(p, s);
  const sel = s.step ? p.steps.filter((st) => st.id === s.step) : p.steps;
  const running = sel.some((st) => st.running);
  if (!sel.length) p.statusEl.textContent = "no records for this " + (s.step ? "step" : "run") + " (yet)";
  if (!filtered) p.view.known(sel.reduce((n, st) => n + st.received, 0), !running && sel.every((st) => st.exact));
  if (running) {
    follow.hidden = false;
    fbox.checked = !s.line; // a permalink stays put
    fbox.addEventListener("change", () => p.view.follow(fbox.checked));
    if (fbox.checked) p.view.follow(true);
    p.timer = setInterval(() => refreshSteps(p), 3000);
  }
}

async function refreshSteps(p) {
  try {
    const acts = await api.steps(p.s.run);
    if (page !== p) return;
    p.steps = groupSteps(acts);
    renderSteps(p, p.s);
    if (!p.steps.some((st) => st.running)) clearInterval(p.timer);
  } catch { /* shown on the next user action */ }
}

// --- routing and keys ---

async function route(force) {
  const s = readHash();
  if (!s.run) { await showRuns(); return; }
  await showRun(s, force);
}

window.addEventListener("hashchange", () => { clearError(); route(false); });

document.addEventListener("keydown", (ev) => {
  const t = ev.target;
  if (t && (t.tagName === "INPUT" || t.tagName === "SELECT" || t.tagName === "TEXTAREA")) return;
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
  if (!page || !page.view) return;
  const v = page.view;
  switch (ev.key) {
    case "/": ev.preventDefault(); document.querySelector(".toolbar .search").focus(); break;
    case "g": v.goto(1, false); break;
    case "G": v.scrollToEnd(); break;
    case "f":
      if (!page.follow.parentElement.hidden) { page.follow.checked = !page.follow.checked; v.follow(page.follow.checked); }
      break;
    case "Escape": page.detail.hidden = true; break;
  }
});

route(true);
