// Showing untrusted text. Everything a log holds (messages, ids,
// attribute keys and values, error text) reaches the page through
// textContent only, after escape(): the control characters that a
// terminal would act on are shown as escapes, with the scheme of
// docs/security.md ("Terminal output").

const BIDI = new Set([0x061c, 0x200e, 0x200f, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e,
  0x2066, 0x2067, 0x2068, 0x2069, 0x2028, 0x2029]);

function hex2(n) { return n.toString(16).padStart(2, "0"); }
function hex4(n) { return n.toString(16).padStart(4, "0"); }

// escapeChar returns the escape of the character with code point cp, or
// null when it is shown as itself.
export function escapeChar(cp) {
  switch (cp) {
    case 0x09: return "\\t";
    case 0x0a: return "\\n";
    case 0x0d: return "\\r";
  }
  if (cp < 0x20 || cp === 0x7f) return "\\x" + hex2(cp);
  if (cp >= 0x80 && cp <= 0x9f) return "\\u" + hex4(cp);
  if (BIDI.has(cp)) return "\\u" + hex4(cp);
  if (cp >= 0xd800 && cp <= 0xdfff) return "\\u" + hex4(cp); // a lone surrogate
  return null;
}

// pieces splits s into runs of plain text and escapes:
// [{text, ctl: bool}], so that escapes can be styled apart.
export function pieces(s) {
  const out = [];
  let plain = "";
  for (const ch of String(s)) { // by code point; a lone surrogate comes alone
    const e = escapeChar(ch.codePointAt(0));
    if (e === null) { plain += ch; continue; }
    if (plain) { out.push({ text: plain, ctl: false }); plain = ""; }
    out.push({ text: e, ctl: true });
  }
  if (plain) out.push({ text: plain, ctl: false });
  return out;
}

// escape returns s with every control character escaped.
export function escape(s) {
  return pieces(s).map((p) => p.text).join("");
}

// el makes an element with a class and text (escaped); never markup.
export function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = escape(text);
  return e;
}

// appendText appends s to parent, escapes in <span class="ctl">.
export function appendText(parent, s) {
  for (const p of pieces(s)) {
    if (p.ctl) {
      const c = document.createElement("span");
      c.className = "ctl";
      c.textContent = p.text;
      parent.appendChild(c);
    } else {
      parent.appendChild(document.createTextNode(p.text));
    }
  }
}
