// ANSI colours, rendered safely. A message's SGR sequences (ESC [ ... m)
// become spans: 16-colour fore- and background as classes, 256-colour and
// truecolor through the CSSOM (element.style, which a CSP without
// 'unsafe-inline' allows), bold, dim, italic, underline, strike-through,
// inverse as classes. Every other escape sequence and control character is
// not interpreted: it is shown escaped (ESC as \x1b), as text.

import { appendText } from "./text.js";

const ESC = "\x1b";
// An SGR sequence: parameters are digits, ';' and ':' (ITU T.416 form).
const SGR = /^\x1b\[([0-9;:]*)m/;

// The xterm palette for indexes 16-255 (0-15 are CSS classes, so that the
// stylesheet decides them).
function xterm256(n) {
  if (n >= 232) {
    const v = 8 + (n - 232) * 10;
    return [v, v, v];
  }
  n -= 16;
  const lv = [0, 95, 135, 175, 215, 255];
  return [lv[Math.floor(n / 36)], lv[Math.floor(n / 6) % 6], lv[n % 6]];
}

function initial() {
  return { fg: null, bg: null, bold: false, dim: false, italic: false, underline: false, strike: false, inverse: false };
}

// A colour is {idx: 0-255} or {rgb: [r, g, b]}.
// extended reads 38/48's arguments from ps at i (the 5 or 2); it returns
// the colour (or null) and how many parameters it used.
function extended(ps, i) {
  const mode = ps[i];
  if (mode === 5 && i + 1 < ps.length) {
    const n = ps[i + 1];
    return [n >= 0 && n <= 255 ? { idx: n } : null, 2];
  }
  if (mode === 2 && i + 3 < ps.length) {
    const c = [ps[i + 1], ps[i + 2], ps[i + 3]];
    return [c.every((v) => v >= 0 && v <= 255) ? { rgb: c } : null, 4];
  }
  return [null, ps.length - i];
}

// apply updates state st with the parameters of one SGR sequence.
export function apply(st, params) {
  // "38:2::r:g:b" (colon form, with an empty colour space id) and
  // "38;2;r;g;b" both occur; the colon form's sub-parameters are taken
  // apart here.
  let ps = [];
  for (const group of (params === "" ? "0" : params).split(";")) {
    const sub = group.split(":");
    if (sub.length > 1 && (sub[0] === "38" || sub[0] === "48") && sub[1] === "2" && sub.length >= 6) {
      sub.splice(2, sub.length - 5); // drop the colour space id
    }
    ps.push(...sub.map((x) => (x === "" ? 0 : Number(x))));
  }
  for (let i = 0; i < ps.length; i++) {
    const p = ps[i];
    if (p === 0) Object.assign(st, initial());
    else if (p === 1) st.bold = true;
    else if (p === 2) st.dim = true;
    else if (p === 3) st.italic = true;
    else if (p === 4) st.underline = true;
    else if (p === 7) st.inverse = true;
    else if (p === 9) st.strike = true;
    else if (p === 21 || p === 24) st.underline = false;
    else if (p === 22) { st.bold = false; st.dim = false; }
    else if (p === 23) st.italic = false;
    else if (p === 27) st.inverse = false;
    else if (p === 29) st.strike = false;
    else if (p >= 30 && p <= 37) st.fg = { idx: p - 30 };
    else if (p === 39) st.fg = null;
    else if (p >= 40 && p <= 47) st.bg = { idx: p - 40 };
    else if (p === 49) st.bg = null;
    else if (p >= 90 && p <= 97) st.fg = { idx: p - 90 + 8 };
    else if (p >= 100 && p <= 107) st.bg = { idx: p - 100 + 8 };
    else if (p === 38 || p === 48) {
      const [c, used] = extended(ps, i + 1);
      if (c) { if (p === 38) st.fg = c; else st.bg = c; }
      i += used;
    }
    // anything else (blink, fonts, ...) is ignored
  }
}

function plain(st) {
  return !st.fg && !st.bg && !st.bold && !st.dim && !st.italic && !st.underline && !st.strike && !st.inverse;
}

// colour sets one side of span's colour: a class for 0-15, CSSOM else.
function colour(span, side, c) {
  if (!c) {
    span.classList.add(side === "fg" ? "inv-fg" : "inv-bg"); // only reached for inverse defaults
    return;
  }
  if (c.idx !== undefined && c.idx < 16) {
    span.classList.add(side + c.idx);
    return;
  }
  const rgb = c.rgb || xterm256(c.idx);
  const v = "rgb(" + rgb.join(", ") + ")";
  if (side === "fg") span.style.color = v;
  else span.style.backgroundColor = v;
}

function styled(st) {
  const span = document.createElement("span");
  if (st.bold) span.classList.add("b");
  if (st.dim) span.classList.add("dim");
  if (st.italic) span.classList.add("i");
  if (st.underline) span.classList.add("u");
  if (st.strike) span.classList.add("s");
  let fg = st.fg, bg = st.bg;
  if (st.inverse) {
    // the default colours swapped are the page's, named by inv-fg/inv-bg
    colour(span, "fg", bg);
    colour(span, "bg", fg);
    return span;
  }
  if (fg) colour(span, "fg", fg);
  if (bg) colour(span, "bg", bg);
  return span;
}

// render appends message s to parent with its colours, as text.
export function render(parent, s) {
  s = String(s);
  const st = initial();
  let from = 0; // start of the text not yet appended
  let target = parent;
  const flush = (to) => {
    if (to > from) appendText(target, s.slice(from, to));
  };
  let i = s.indexOf(ESC);
  while (i >= 0) {
    const m = SGR.exec(s.slice(i, i + 64));
    if (!m) { i = s.indexOf(ESC, i + 1); continue; } // shown escaped by appendText
    flush(i);
    apply(st, m[1]);
    target = plain(st) ? parent : parent.appendChild(styled(st));
    from = i + m[0].length;
    i = s.indexOf(ESC, from);
  }
  flush(s.length);
}

// strip returns s without its SGR sequences (for titles and search).
export function strip(s) {
  return String(s).replace(/\x1b\[[0-9;:]*m/g, "");
}
