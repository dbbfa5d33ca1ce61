// How Go prints values, for the template engine (template.ts): fmt's %v (Sprint, Sprintln),
// Sprintf's common verbs, strconv.Quote and encoding/json — on JS data read as Go data:
// arrays are slices, Map instances are maps (printed and encoded in key order), plain objects
// are structs (fields in order), integral numbers are ints and GoFloat marks a float.

/** A float constant from a template (`1.5`, `1e6`): Go prints 1e6 as 1e+06, an int as 1000000. */
export class GoFloat {
  constructor(readonly v: number) {}
}

export const num = (v: unknown): number => (v instanceof GoFloat ? v.v : (v as number));
export const isNum = (v: unknown): boolean => typeof v === 'number' || v instanceof GoFloat;
const isFloat = (v: unknown) => v instanceof GoFloat || (typeof v === 'number' && !Number.isInteger(v));
export const isStruct = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Map) && !(v instanceof GoFloat);

/** The type name Go's messages give: "string", "int", "[]interface {}", or a struct's own (structType). */
export const TYPE = Symbol('go type');
export function typeName(v: unknown): string {
  if (v === undefined || v === null) return '<nil>';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (isNum(v)) return isFloat(v) ? 'float64' : 'int';
  if (Array.isArray(v)) return v.every((e) => typeof e === 'string') && v.length ? '[]string' : '[]interface {}';
  if (v instanceof Map) return 'map[string]interface {}';
  if (typeof v === 'function') return 'func';
  return (v as any)[TYPE] ?? 'struct';
}

/** strconv.FormatFloat(f, 'g', -1, 64): shortest digits, exponent when < -4 or >= max(digits, 6)... as Go decides. */
export function formatFloat(f: number): string {
  if (Number.isNaN(f)) return 'NaN';
  if (!Number.isFinite(f)) return f > 0 ? '+Inf' : '-Inf';
  if (f === 0) return Object.is(f, -0) ? '-0' : '0';
  const [mant, e] = f.toExponential().split('e');
  const exp = Number(e);
  const nd = mant.replace(/^-/, '').replace('.', '').length;
  let eprec = 6;
  if (eprec > nd && nd >= exp + 1) eprec = nd;
  if (exp < -4 || exp >= eprec) return `${mant}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return f.toFixed(Math.max(0, nd - exp - 1));
}

function numText(v: unknown): string {
  const n = num(v);
  return isFloat(v) ? formatFloat(n) : String(n);
}

/** fmt's %v. `top` is a value printed by an action: nil there is "<no value>", inside a slice "<nil>". */
export function sprintValue(v: unknown, top = false, plus = false): string {
  if (v === undefined || v === null) return top ? '<no value>' : '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return String(v);
  if (isNum(v)) return numText(v);
  if (Array.isArray(v)) return `[${v.map((e) => sprintValue(e, false, plus)).join(' ')}]`;
  if (v instanceof Map) return `map[${[...v.keys()].sort(cmpKeys).map((k) => `${sprintValue(k)}:${sprintValue(v.get(k), false, plus)}`).join(' ')}]`;
  if (typeof v === 'function') return '<func>';
  const fields = Object.entries(v as object).filter(([, x]) => typeof x !== 'function');
  return `{${fields.map(([k, x]) => (plus ? `${k}:` : '') + sprintValue(x, false, plus)).join(' ')}}`;
}

const cmpKeys = (a: any, b: any) => (isNum(a) && isNum(b) ? num(a) - num(b) : String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0);

/** fmt.Sprint: a space between operands when neither is a string. */
export function sprint(args: unknown[]): string {
  let out = '';
  args.forEach((a, i) => {
    if (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string') out += ' ';
    out += sprintValue(a);
  });
  return out;
}

/** fmt.Sprintln: spaces between all operands, a newline at the end. */
export const sprintln = (args: unknown[]) => args.map((a) => sprintValue(a)).join(' ') + '\n';

/** strconv.Quote: Go's escapes (\x01, \u2028), printable Unicode kept as is. */
export function quote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += '\\' + ch;
    else if (c >= 0x20 && c < 0x7f) out += ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\x07') out += '\\a';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (ch === '\v') out += '\\v';
    else if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else if (/[\p{L}\p{M}\p{N}\p{P}\p{S}\u0020]/u.test(ch)) out += ch;
    else if (c < 0x10000) out += '\\u' + c.toString(16).padStart(4, '0');
    else out += '\\U' + c.toString(16).padStart(8, '0');
  }
  return out + '"';
}

/** encoding/json as Docker's `json` function uses it (no HTML escaping): maps sorted, struct fields in order. */
export function toJSON(v: unknown): string {
  return JSON.stringify(jsonable(v)).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}
function jsonable(v: unknown): unknown {
  if (v === undefined || v === null) return null;
  if (v instanceof GoFloat) return v.v;
  if (Array.isArray(v)) return v.map(jsonable);
  if (v instanceof Map) return Object.fromEntries([...v.keys()].sort(cmpKeys).map((k) => [String(k), jsonable(v.get(k))]));
  if (typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([, x]) => typeof x !== 'function').map(([k, x]) => [k, jsonable(x)]));
  return v;
}

/** fmt.Sprintf with the verbs people write: %v %+v %s %q %d %f %e %g %t %x %X %o %b %c %% and width, precision, flags. */
export function sprintf(format: string, args: unknown[]): string {
  let out = '';
  let ai = 0;
  const re = /%([-+# 0]*)(\d+|\*)?(?:\.(\d*|\*))?(.|$)/gsy;
  let last = 0;
  for (let i = format.indexOf('%'); i !== -1; i = format.indexOf('%', last)) {
    out += format.slice(last, i);
    re.lastIndex = i;
    const m = re.exec(format)!;
    last = re.lastIndex;
    const [, flags, w, p, verb] = m;
    if (verb === '%') { out += '%'; continue; }
    if (verb === '') { out += '%!(NOVERB)'; continue; }
    const width = w === '*' ? num(args[ai++]) : w !== undefined ? Number(w) : undefined;
    const prec = p === '*' ? num(args[ai++]) : p !== undefined ? Number(p || 0) : undefined;
    if (ai >= args.length) { out += `%!${verb}(MISSING)`; continue; }
    out += pad(formatOne(verb, args[ai++], flags, prec), width, flags, verb);
  }
  out += format.slice(last);
  if (ai < args.length) out += `%!(EXTRA ${args.slice(ai).map((a) => `${typeName(a)}=${sprintValue(a)}`).join(', ')})`;
  return out;
}

function pad(s: string, width: number | undefined, flags: string, verb: string): string {
  const len = [...s].length;
  if (width === undefined || len >= width) return s;
  if (flags.includes('-')) return s + ' '.repeat(width - len);
  if (flags.includes('0') && 'dfeEgGxXob'.includes(verb) && /^[-+]?[0-9]/.test(s)) {
    const sign = /^[-+]/.test(s) ? s[0] : '';
    return sign + '0'.repeat(width - len) + s.slice(sign.length);
  }
  return ' '.repeat(width - len) + s;
}

function formatOne(verb: string, a: unknown, flags: string, prec?: number): string {
  const bad = () => `%!${verb}(${typeName(a)}=${sprintValue(a)})`;
  if (Array.isArray(a) && verb !== 'v' && verb !== 'T') return `[${a.map((e) => formatOne(verb, e, flags, prec)).join(' ')}]`;
  const sign = (n: number, s: string) => (n >= 0 && flags.includes('+') ? '+' + s : n >= 0 && flags.includes(' ') ? ' ' + s : s);
  switch (verb) {
    case 'v': return typeof a === 'string' && flags.includes('#') ? quote(a) : sprintValue(a, false, flags.includes('+'));
    case 'U': return isNum(a) && !isFloat(a) ? 'U+' + num(a).toString(16).toUpperCase().padStart(4, '0') : bad();
    case 'T': return typeName(a);
    case 's': return typeof a === 'string' ? (prec !== undefined ? [...a].slice(0, prec).join('') : a) : a instanceof Error ? a.message : typeof a === 'object' && a !== null && !(a instanceof GoFloat) ? sprintValue(a) : bad();
    case 'q':
      if (typeof a === 'string') return flags.includes('#') && !a.includes('`') ? '`' + a + '`' : quote(a);
      if (isNum(a) && !isFloat(a)) return `'${String.fromCodePoint(num(a))}'`;
      return bad();
    case 't': return typeof a === 'boolean' ? String(a) : bad();
    case 'c': return isNum(a) && !isFloat(a) ? String.fromCodePoint(num(a)) : bad();
    case 'd': case 'o': case 'b': case 'x': case 'X': {
      if (typeof a === 'string' && (verb === 'x' || verb === 'X')) {
        const h = Buffer.from(a).toString('hex');
        return verb === 'X' ? h.toUpperCase() : h;
      }
      if (!isNum(a) || isFloat(a)) return bad();
      const n = num(a);
      const base = { d: 10, o: 8, b: 2, x: 16, X: 16 }[verb]!;
      let s = Math.abs(n).toString(base);
      if (verb === 'X') s = s.toUpperCase();
      if (flags.includes('#')) s = (verb === 'x' ? '0x' : verb === 'X' ? '0X' : verb === 'o' ? '0' : '') + s;
      return sign(n, n < 0 ? '-' + s : s);
    }
    case 'f': case 'F': case 'e': case 'E': case 'g': case 'G': {
      // Go refuses %f of an int; numbers from box's own records are JS numbers that may happen to be integral, so any number goes
      if (!isNum(a)) return bad();
      const n = num(a);
      let s: string;
      if (verb === 'f' || verb === 'F') s = fixed(n, prec ?? 6);
      else if (verb === 'e' || verb === 'E') s = expo(n.toExponential(prec ?? 6));
      else s = prec === undefined ? formatFloat(n) : gPrec(n, prec);
      if (verb === 'E' || verb === 'G') s = s.toUpperCase();
      return sign(n, s);
    }
    default: return `%!${verb}(${typeName(a)}=${sprintValue(a)})`;
  }
}

const expo = (s: string) => s.replace(/e([-+])(\d)$/, 'e$10$2');
function gPrec(n: number, prec: number): string {
  const p = prec === 0 ? 1 : prec;
  const exp = Number(n.toExponential(p - 1).split('e')[1]);
  if (exp < -4 || exp >= p) return expo(n.toExponential(p - 1).replace(/\.?0+e/, 'e'));
  return n.toFixed(Math.max(0, p - 1 - exp)).replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
}

/** %.Nf as Go rounds: an exact tie goes to the even digit (2.5 → "2"), where toFixed rounds up. */
function fixed(n: number, f: number): string {
  const s = n.toFixed(f);
  const exact = Math.abs(n).toPrecision(100).replace(/0+$/, '');
  const dot = exact.indexOf('.');
  if (dot === -1 || exact.includes('e') || exact.slice(dot + 1 + f) !== '5') return s;
  const digit = Number((f === 0 ? exact.slice(0, dot) : exact.slice(0, dot + 1 + f)).slice(-1));
  if (digit % 2 === 1) return s; // rounding up reaches the even digit
  const down = (n < 0 ? '-' : '') + exact.slice(0, f === 0 ? dot : dot + 1 + f);
  return down;
}
