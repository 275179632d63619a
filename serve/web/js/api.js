// The viewer's client of runlog's HTTP API (/api/v1, see docs/serve.md).
// Every call carries the bearer token when there is one: it comes from
// the address's fragment (#token=...), which the viewer then removes from
// the address bar, or from the prompt shown when the server answers 401;
// it is kept in sessionStorage (this tab only).

const BASE = "api/v1"; // relative: the viewer works under a path prefix too
const TOKEN_KEY = "runlog.token";

export class APIError extends Error {
  constructor(status, kind, message, hint) {
    super(message || ("HTTP " + status));
    this.status = status;
    this.kind = kind || "";
    this.hint = hint || "";
  }
}

export function token() {
  try { return sessionStorage.getItem(TOKEN_KEY) || ""; } catch { return ""; }
}

export function setToken(t) {
  try {
    if (t) sessionStorage.setItem(TOKEN_KEY, t);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch { /* storage refused: the token lasts as long as nothing asks again */ }
}

function headers() {
  const h = { Accept: "application/json" };
  const t = token();
  if (t) h.Authorization = "Bearer " + t;
  return h;
}

// query builds a query string of the parameters that are set; an empty
// "before" is kept: it asks for the newest page.
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null) continue;
    if (v === "" && k !== "before") continue;
    q.set(k, String(v));
  }
  const s = q.toString();
  return s ? "?" + s : "";
}

function runPath(run) { return BASE + "/runs/" + encodeURIComponent(run); }

async function failure(resp) {
  let kind = "", message = "", hint = "";
  try {
    const body = await resp.json();
    const e = body && body.error;
    if (e) { kind = e.kind; message = e.message; hint = e.hint; }
  } catch { /* not JSON: the status says it */ }
  return new APIError(resp.status, kind, message || resp.status + " " + resp.statusText, hint);
}

async function get(path, signal) {
  const resp = await fetch(path, { headers: headers(), signal, cache: "no-store" });
  if (!resp.ok) throw await failure(resp);
  return resp.json();
}

// listRuns returns {runs, next, more}.
export async function listRuns(cursor, limit, signal) {
  const b = await get(BASE + "/runs" + query({ after: cursor, limit }), signal);
  return { runs: b.items || b.runs || [], next: b.after || b.next || "", more: !!b.more };
}

// steps returns the run's activations, each with its step_id, source,
// status, received, missing, first, last, cause, result (and attempt where the
// server gives it).
export async function steps(run, signal) {
  let b;
  try {
    b = await get(runPath(run) + "/steps", signal);
  } catch (err) {
    if (err.status === 404) return []; // nothing stored for the run (yet)
    throw err;
  }
  const out = [];
  for (const st of b.steps || []) {
    if (!Array.isArray(st.activations)) { out.push(st); continue; }
    for (const a of st.activations) out.push({ ...a, step_id: st.step_id || "" });
  }
  return out;
}

// logs fetches a page; f holds step, source, level, search, limit and
// after or before (cursors).
export function logs(run, f, signal) {
  return get(runPath(run) + "/logs" + query(f), signal);
}

export function downloadURL(run, f) {
  return runPath(run) + "/logs/download" + query(f);
}

// download fetches the file with the token and hands it to the browser
// (a link cannot send the Authorization header).
export async function download(run, f) {
  const resp = await fetch(downloadURL(run, f), { headers: headers() });
  if (!resp.ok) throw await failure(resp);
  const cd = resp.headers.get("Content-Disposition") || "";
  const m = /filename="?([^";]+)"?/.exec(cd);
  const blob = await resp.blob();
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = m ? m[1] : "runlog-" + run + ".log";
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

// stream follows the live tail of run from cursor after: onEntry(item,
// cursor) for each entry, onEnd() at the step's end marker. It reads the
// Server-Sent Events with fetch (EventSource cannot send a token) and
// reconnects from the last cursor after a dropped connection. It returns
// a function that stops it.
export function stream(run, f, { onEntry, onEnd, onError }) {
  const ctl = new AbortController();
  let last = f.after || "";
  let stopped = false;
  const once = async () => {
    const resp = await fetch(runPath(run) + "/logs/stream" + query({ ...f, after: last }), {
      headers: { ...headers(), Accept: "text/event-stream" }, signal: ctl.signal, cache: "no-store",
    });
    if (!resp.ok) throw await failure(resp);
    const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return false;
      buf += value;
      let cut;
      while ((cut = buf.search(/\r?\n\r?\n/)) >= 0) {
        const block = buf.slice(0, cut);
        buf = buf.slice(cut).replace(/^\r?\n\r?\n/, "");
        const ev = { event: "message", data: [], id: null };
        for (const line of block.split(/\r?\n/)) {
          if (line.startsWith(":")) continue;
          const colon = line.indexOf(":");
          const name = colon < 0 ? line : line.slice(0, colon);
          let v = colon < 0 ? "" : line.slice(colon + 1);
          if (v.startsWith(" ")) v = v.slice(1);
          if (name === "event") ev.event = v;
          else if (name === "data") ev.data.push(v);
          else if (name === "id") ev.id = v;
        }
        if (ev.id !== null) last = ev.id;
        if (ev.event === "end") { onEnd(); return true; }
        if (ev.event === "entry" || ev.event === "message") {
          if (ev.data.length) onEntry(JSON.parse(ev.data.join("\n")), last);
        } else if (ev.event === "error" && onError) {
          try {
            const e = JSON.parse(ev.data.join("\n")).error || {};
            onError(new APIError(0, e.kind, e.message, e.hint));
          } catch { /* unknown error body */ }
        }
      }
    }
  };
  (async () => {
    let delay = 500;
    while (!stopped) {
      try {
        if (await once()) return;
        delay = 500;
      } catch (err) {
        if (stopped) return;
        if (err instanceof APIError && err.status >= 400 && err.status < 500) { onError && onError(err); return; }
        onError && onError(err);
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 10000);
    }
  })();
  return () => { stopped = true; ctl.abort(); };
}
