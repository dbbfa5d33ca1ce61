// Go's text/template, the part Docker users write in --format: fields, variables, pipelines,
// if/else/with/range (break, continue), parentheses, literals, {{- trim -}} markers, comments,
// Go's builtins (and or not len index slice print printf println eq ne lt le gt ge html js
// urlquery call) and Docker's own (json split join title lower upper pad truncate, from
// docker/cli templates/templates.go). Messages are Go's: "template: :1: unclosed action",
// "template: :1:2: executing "" at <.Foo>: can't evaluate field Foo in type T".
// No package does this: the npm ones either wrap Go compiled to WebAssembly or are
// unmaintained and unlicensed, and box takes no runtime dependencies.
// Data is JS read as Go (gofmt.ts): arrays are slices, Map instances maps, plain objects
// structs (a missing field is an error), functions in a struct its methods (called with the
// arguments given, `{{.Label "k"}}`).
import { GoFloat, num, isNum, isStruct, typeName, sprint, sprintln, sprintf, sprintValue, toJSON } from './gofmt';

export class TemplateError extends Error {
  constructor(message: string, readonly partial = '') { super(message); }
}
/** The template does not parse: Docker prints "template parsing error: " + this. */
export class TemplateParseError extends TemplateError {}
/** Executing it failed (a missing field, a bad call); `partial` is what it printed before. */
export class TemplateExecError extends TemplateError {}

// ---------------------------------------------------------------- lexer
type Tok = { t: string; v: string; pos: number; line: number };
const KEYWORDS = new Set(['if', 'else', 'end', 'range', 'with', 'break', 'continue', 'define', 'template', 'block', 'nil', 'true', 'false']);
const isSpace = (c: string) => c === ' ' || c === '\t' || c === '\r' || c === '\n';
const isAlnum = (c: string) => /^[\p{L}\p{Nd}_]$/u.test(c);

function lex(src: string): Tok[] {
  const toks: Tok[] = [];
  const line = (pos: number) => 1 + (src.slice(0, pos).match(/\n/g)?.length ?? 0);
  const emit = (t: string, v: string, pos: number) => toks.push({ t, v, pos, line: line(pos) });
  const fail = (msg: string, pos: number) => { emit('error', msg, pos); return toks; };
  let p = 0;
  let trimNext = false;
  for (;;) {
    let open = src.indexOf('{{', p);
    let text = src.slice(p, open === -1 ? src.length : open);
    if (trimNext) text = text.replace(/^[ \t\r\n]+/, '');
    const trimLeft = open !== -1 && src[open + 2] === '-' && isSpace(src[open + 3] ?? '');
    if (trimLeft) text = text.replace(/[ \t\r\n]+$/, '');
    if (text) emit('text', text, p);
    if (open === -1) { emit('eof', '', src.length); return toks; }
    emit('{{', '{{', open);
    p = open + 2 + (trimLeft ? 2 : 0);
    // a comment is the whole action
    if (src.startsWith('/*', p)) {
      const end = src.indexOf('*/', p);
      if (end === -1) return fail('unclosed comment', p);
      let q = end + 2;
      const trimR = isSpace(src[q] ?? '') && src[q + 1] === '-' && src.startsWith('}}', q + 2);
      if (trimR) q += 2;
      if (!src.startsWith('}}', q)) return fail('comment ends before closing delimiter', q);
      toks.pop();
      p = q + 2;
      trimNext = trimR;
      continue;
    }
    let depth = 0;
    for (;;) {
      const c = src[p];
      if (c === undefined) return fail('unclosed action', p);
      if (src.startsWith('}}', p) || (isSpace(c) && /^[ \t\r\n]*-}}/.test(src.slice(p, p + 200)))) {
        const m = /^([ \t\r\n]*-)?}}/.exec(src.slice(p))!;
        if (!m) { p++; continue; }
        if (depth > 0) return fail('unclosed left paren', p);
        trimNext = !!m[1];
        emit('}}', '}}', p);
        p += m[0].length;
        break;
      }
      const start = p;
      if (isSpace(c)) { while (isSpace(src[p] ?? '') && !/^[ \t\r\n]-}}/.test(src.slice(p, p + 4))) p++; if (p === start) p++; emit('space', ' ', start); continue; }
      if (c === '|') { emit('|', c, p++); continue; }
      if (c === '(') { depth++; emit('(', c, p++); continue; }
      if (c === ')') { if (--depth < 0) return fail(`unexpected right paren`, p); emit(')', c, p++); continue; }
      if (c === '=') { emit('=', c, p++); continue; }
      if (c === ':') { if (src[p + 1] !== '=') return fail('expected :=', p); emit(':=', ':=', p); p += 2; continue; }
      if (c === '"') {
        let q = p + 1;
        for (; src[q] !== '"'; q++) { if (src[q] === '\\') q++; if (src[q] === undefined || src[q] === '\n') return fail('unterminated quoted string', p); }
        emit('string', src.slice(p, q + 1), p); p = q + 1; continue;
      }
      if (c === '`') { const q = src.indexOf('`', p + 1); if (q === -1) return fail('unterminated raw quoted string', p); emit('raw', src.slice(p, q + 1), p); p = q + 1; continue; }
      if (c === "'") {
        let q = p + 1;
        for (; src[q] !== "'"; q++) { if (src[q] === '\\') q++; if (src[q] === undefined || src[q] === '\n') return fail('unterminated character constant', p); }
        emit('char', src.slice(p, q + 1), p); p = q + 1; continue;
      }
      if (c === '$') { let q = p + 1; while (isAlnum(src[q] ?? '')) q++; emit('var', src.slice(p, q), p); p = q; continue; }
      if (c === '.' && !/[0-9]/.test(src[p + 1] ?? '')) {
        let q = p + 1; while (isAlnum(src[q] ?? '')) q++;
        emit(q === p + 1 ? 'dot' : 'field', src.slice(p, q), p); p = q; continue;
      }
      if (/[0-9+\-.]/.test(c)) {
        const m = /^[+-]?(0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|(?:[0-9][0-9_]*)?\.?[0-9_]*(?:[eE][+-]?[0-9]+)?)/.exec(src.slice(p))!;
        if (!/[0-9]/.test(m[0]) || isAlnum(src[p + m[0].length] ?? '')) return fail(`bad number syntax: "${src.slice(p, p + m[0].length + 1)}"`, p);
        emit('number', m[0], p); p += m[0].length; continue;
      }
      if (isAlnum(c)) {
        let q = p; while (isAlnum(src[q] ?? '')) q++;
        const w = src.slice(p, q);
        emit(w === 'true' || w === 'false' ? 'bool' : KEYWORDS.has(w) ? w : 'ident', w, p); p = q; continue;
      }
      if (c === '}') return fail(`bad character U+007D '}'`, p);
      if (c >= ' ' && c <= '~') { emit('char', c, p++); continue; }
      return fail(`unrecognized character in action: U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`, p);
    }
  }
}

// ---------------------------------------------------------------- parse tree
type Arg =
  | { k: 'field'; names: string[]; pos: number; s: string }
  | { k: 'var'; name: string; names: string[]; pos: number; s: string }
  | { k: 'chain'; node: Arg; names: string[]; pos: number; s: string }
  | { k: 'pipe'; pipe: Pipe; pos: number; s: string }
  | { k: 'ident'; name: string; pos: number; s: string }
  | { k: 'lit'; v: unknown; lit: string; pos: number; s: string } // string, number, bool, nil, dot
type Cmd = { args: Arg[]; pos: number; s: string };
type Pipe = { decl: string[]; assign: boolean; cmds: Cmd[]; pos: number; s: string };
type Control = { k: 'if' | 'with' | 'range'; pipe: Pipe; list: Node[]; else?: Node[] };
type Node =
  | { k: 'text'; text: string }
  | { k: 'action'; pipe: Pipe }
  | Control
  | { k: 'break' | 'continue' };
const DOT = Symbol('dot');
const OPERAND = new Set(['bool', 'char', 'dot', 'field', 'ident', 'nil', 'number', '(', 'string', 'raw', 'var']);

function unquote(tok: Tok): string {
  if (tok.t === 'raw') return tok.v.slice(1, -1).replace(/\r/g, '');
  const esc: Record<string, string> = { n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', f: '\f', v: '\v', '\\': '\\', '"': '"', "'": "'" };
  return tok.v.slice(1, -1).replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{3}|.)/g, (_, e: string) => {
    if (e[0] === 'x' || e[0] === 'u' || e[0] === 'U') return String.fromCodePoint(parseInt(e.slice(1), 16));
    if (/^[0-7]{3}$/.test(e)) return String.fromCharCode(parseInt(e, 8));
    if (e in esc) return esc[e];
    throw new Error(`invalid syntax`);
  });
}

function numberValue(text: string): unknown {
  const t = text.replace(/_/g, '');
  if (/^[+-]?0[xXbBoO]/.test(t)) { const neg = t.startsWith('-'); const n = Number(t.replace(/^[+-]/, '')); return neg ? -n : n; }
  const n = Number(t);
  return /[.eE]/.test(t) ? new GoFloat(n) : n;
}

class Parser {
  private i = 0;
  private vars: string[][] = [['$']];
  constructor(private toks: Tok[], private funcs: Set<string>) {}

  private err(msg: string, tok = this.toks[Math.min(this.i, this.toks.length - 1)]): never {
    throw new TemplateParseError(`template: :${tok.line}: ${msg}`);
  }
  private next(): Tok { const t = this.toks[this.i++]; if (t.t === 'error') this.err(t.v, t); return t; }
  private peek(): Tok { const t = this.toks[this.i]; if (t.t === 'error') this.err(t.v, t); return t; }
  private nextNonSpace(): Tok { let t; do t = this.next(); while (t.t === 'space'); return t; }
  private peekNonSpace(): Tok { const t = this.nextNonSpace(); this.i--; return t; }
  private desc(t: Tok): string {
    if (t.t === 'eof') return 'EOF';
    if (KEYWORDS.has(t.t) && t.t !== 'nil') return `<${t.v}>`;
    return t.v.length > 10 ? JSON.stringify(t.v.slice(0, 10)) + '...' : JSON.stringify(t.v);
  }
  private unexpected(t: Tok, ctx: string): never { this.err(`unexpected ${this.desc(t)} in ${ctx}`, t); }

  parse(): Node[] {
    const [list, end] = this.list();
    if (end) this.err(`unexpected {{${end}}}`);
    return list;
  }

  /** Nodes up to EOF (top level) or up to {{end}} / {{else}}, which it names. */
  private list(inner = false, inRange = false): [Node[], string | undefined] {
    const out: Node[] = [];
    for (;;) {
      const t = this.next();
      if (t.t === 'eof') { if (inner) this.err('unexpected EOF', t); return [out, undefined]; }
      if (t.t === 'text') { out.push({ k: 'text', text: t.v }); continue; }
      const kw = this.peekNonSpace();
      if (kw.t === 'end' || kw.t === 'else') {
        this.nextNonSpace();
        if (kw.t === 'end') this.expectClose('end');
        if (!inner) this.err(`unexpected {{${kw.t}}}`, kw);
        return [out, kw.t];
      }
      out.push(this.action(inRange));
    }
  }

  private expectClose(ctx: string) { const t = this.nextNonSpace(); if (t.t !== '}}') this.unexpected(t, ctx); }

  private action(inRange: boolean): Node {
    const t = this.nextNonSpace();
    switch (t.t) {
      case 'if': case 'with': return this.control(t.t, inRange);
      case 'range': return this.control('range', true);
      case 'break': case 'continue':
        if (!inRange) this.err(`{{${t.t}}} outside {{range}}`, t);
        this.expectClose(t.t);
        return { k: t.t };
      case 'define': case 'template': case 'block': this.err(`{{${t.t}}} is not supported by box`, t);
    }
    this.i--;
    return { k: 'action', pipe: this.pipeline('command', '}}') };
  }

  private control(kind: 'if' | 'with' | 'range', inRange: boolean): Node {
    this.vars.push([]);
    const pipe = this.pipeline(kind, '}}');
    const [list, end] = this.list(true, inRange);
    let elseList: Node[] | undefined;
    if (end === 'else') {
      const nx = this.peekNonSpace();
      if ((kind === 'if' && nx.t === 'if') || (kind === 'with' && nx.t === 'with')) {
        // {{else if …}} is {{else}}{{if …}} sharing the one {{end}}
        this.nextNonSpace();
        elseList = [this.control(kind, inRange)];
      } else {
        this.expectClose('else');
        const [l, end2] = this.list(true, inRange);
        if (end2 === 'else') this.err(`expected end; found {{else}}`);
        elseList = l;
      }
    }
    this.vars.pop();
    return { k: kind, pipe, list, else: elseList };
  }

  private pipeline(ctx: string, close: string): Pipe {
    const start = this.peekNonSpace();
    const decl: string[] = [];
    let assign = false;
    for (;;) {
      const v = this.peekNonSpace();
      if (v.t !== 'var') break;
      const save = this.i;
      this.nextNonSpace();
      const nx = this.peekNonSpace();
      if (nx.t === ':=' || nx.t === '=') {
        this.nextNonSpace(); assign = nx.t === '='; decl.push(v.v); break;
      }
      if (nx.t === 'char' && nx.v === ',') {
        this.nextNonSpace(); decl.push(v.v);
        if (ctx === 'range' && decl.length < 2 && ['var', '}}', ')'].includes(this.peekNonSpace().t)) continue;
        if (ctx === 'range' && decl.length < 2) this.err('range can only initialize variables');
        this.err(`too many declarations in ${ctx}`);
      }
      this.i = save;
      break;
    }
    if (!assign) this.vars[this.vars.length - 1].push(...decl);
    const cmds: Cmd[] = [];
    for (;;) {
      const t = this.peekNonSpace();
      if (t.t === close) {
        this.nextNonSpace();
        if (!cmds.length) this.err(`missing value for ${ctx}`, t);
        break;
      }
      if (!OPERAND.has(t.t) || (t.t === 'char' && t.v.length === 1)) this.unexpected(t, ctx);
      cmds.push(this.command());
    }
    cmds.forEach((c, n) => { if (n > 0 && c.args[0].k === 'lit') this.err(`non executable command in pipeline stage ${n + 1}`); });
    const s = (decl.length ? decl.join(', ') + (assign ? ' = ' : ' := ') : '') + cmds.map((c) => c.s).join(' | ');
    return { decl, assign, cmds, pos: start.pos, s };
  }

  private command(): Cmd {
    const args: Arg[] = [];
    for (;;) {
      this.peekNonSpace();
      const a = this.operand();
      if (a) args.push(a);
      const t = this.next();
      if (t.t === 'space') { const n = this.peek(); if (n.t !== '}}' && n.t !== ')' && n.t !== '|') continue; this.i--; continue; }
      if (t.t === '}}' || t.t === ')') { this.i--; break; }
      if (t.t === '|') break;
      this.unexpected(t, 'operand');
    }
    if (!args.length) this.err('empty command');
    return { args, pos: args[0].pos, s: args.map((a) => a.s).join(' ') };
  }

  private operand(): Arg | undefined {
    const node = this.term();
    if (!node) return undefined;
    if (this.peek().t !== 'field') return node;
    const chainPos = this.peek().pos;
    const names: string[] = [];
    while (this.peek().t === 'field') names.push(this.next().v.slice(1));
    const s = node.s + names.map((n) => '.' + n).join('');
    // Go folds the chain into the field or variable, at the chain's position (its second part)
    if (node.k === 'field' || node.k === 'var') return { ...node, names: [...node.names, ...names], s, pos: chainPos };
    if (node.k === 'lit' && node.v !== DOT) this.err(`unexpected . after term ${JSON.stringify(node.s)}`);
    return { k: 'chain', node, names, pos: node.pos, s };
  }

  private term(): Arg | undefined {
    const t = this.nextNonSpace();
    switch (t.t) {
      case 'ident':
        if (!this.funcs.has(t.v)) this.err(`function ${JSON.stringify(t.v)} not defined`, t);
        return { k: 'ident', name: t.v, pos: t.pos, s: t.v };
      case 'dot': return { k: 'lit', v: DOT, lit: 'dot', pos: t.pos, s: '.' };
      case 'nil': return { k: 'lit', v: null, lit: 'nil', pos: t.pos, s: 'nil' };
      case 'var':
        if (!this.vars.some((scope) => scope.includes(t.v))) this.err(`undefined variable ${JSON.stringify(t.v)}`, t);
        return { k: 'var', name: t.v, names: [], pos: t.pos, s: t.v };
      case 'field': return { k: 'field', names: [t.v.slice(1)], pos: t.pos, s: t.v };
      case 'bool': return { k: 'lit', v: t.v === 'true', lit: 'bool', pos: t.pos, s: t.v };
      case 'number': return { k: 'lit', v: numberValue(t.v), lit: 'number', pos: t.pos, s: t.v };
      case 'char': {
        if (t.v === ',' || t.v.length === 1) break;
        let v: string;
        try { v = unquote(t); } catch { this.err(`malformed character constant: ${t.v}`, t); }
        if ([...v].length !== 1) this.err(`malformed character constant: ${t.v}`, t);
        return { k: 'lit', v: v.codePointAt(0), lit: 'number', pos: t.pos, s: t.v };
      }
      case '(': {
        const pipe = this.pipeline('parenthesized pipeline', ')');
        return { k: 'pipe', pipe, pos: t.pos, s: `(${pipe.s})` };
      }
      case 'string': case 'raw': {
        let v: string;
        try { v = unquote(t); } catch { this.err(`invalid syntax`, t); }
        return { k: 'lit', v, lit: 'string', pos: t.pos, s: t.v };
      }
    }
    this.i--;
    return undefined;
  }
}

// ---------------------------------------------------------------- functions
class FuncError extends Error {}
type Param = 's' | 'i' | 'a' | 'S';
type Fn = { params: Param[]; variadic?: boolean; fn: (...a: any[]) => unknown };

function truth(v: unknown): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v === 'boolean') return v;
  if (isNum(v)) return num(v) !== 0;
  if (typeof v === 'string' || Array.isArray(v)) return v.length > 0;
  if (v instanceof Map) return v.size > 0;
  return true;
}

function basicKind(v: unknown): string {
  if (typeof v === 'boolean') return 'bool';
  if (isNum(v)) return 'number';
  if (typeof v === 'string') return 'string';
  throw new FuncError('invalid type for comparison');
}
function eq(a: unknown, ...bs: unknown[]): boolean {
  if (!bs.length) throw new FuncError('missing argument for comparison');
  for (const b of bs) {
    if ((a === null || a === undefined) && (b === null || b === undefined)) return true;
    if (basicKind(a) !== basicKind(b)) throw new FuncError('incompatible types for comparison');
    if (isNum(a) ? num(a) === num(b) : a === b) return true;
  }
  return false;
}
function lt(a: unknown, b: unknown): boolean {
  const k = basicKind(a);
  if (k === 'bool') throw new FuncError('invalid type for comparison');
  if (k !== basicKind(b)) throw new FuncError('incompatible types for comparison');
  return isNum(a) ? num(a) < num(b) : (a as string) < (b as string);
}

function index(item: unknown, ...keys: unknown[]): unknown {
  let v = item;
  if (v === undefined || v === null) throw new FuncError('index of untyped nil');
  for (const k of keys) {
    if (Array.isArray(v) || typeof v === 'string') {
      if (!isNum(k)) throw new FuncError(`cannot index slice/array with type ${typeName(k)}`);
      const i = num(k);
      const len = typeof v === 'string' ? Buffer.byteLength(v) : v.length;
      if (i < 0 || i >= len) throw new FuncError(`index out of range: ${i}`);
      v = typeof v === 'string' ? Buffer.from(v)[i] : v[i];
    } else if (v instanceof Map) {
      v = v.get(k);
    } else if (v === undefined || v === null) {
      throw new FuncError('index of untyped nil');
    } else {
      throw new FuncError(`can't index item of type ${typeName(v)}`);
    }
  }
  return v;
}

function slice(item: unknown, ...idx: unknown[]): unknown {
  if (typeof item !== 'string' && !Array.isArray(item)) throw new FuncError(`can't slice item of type ${typeName(item)}`);
  if (idx.length > 3 || (idx.length === 3 && typeof item === 'string')) throw new FuncError('too many slice indexes');
  const len = typeof item === 'string' ? Buffer.byteLength(item) : item.length;
  const [i = 0, j = len] = idx.map(num);
  if (i < 0 || j < i || j > len) throw new FuncError(`index out of range: ${j > len ? j : i}`);
  return typeof item === 'string' ? Buffer.from(item).subarray(i, j).toString() : item.slice(i, j);
}

function len(v: unknown): number {
  if (typeof v === 'string') return Buffer.byteLength(v);
  if (Array.isArray(v)) return v.length;
  if (v instanceof Map) return v.size;
  throw new FuncError(`len of type ${typeName(v)}`);
}

/** strings.Title: the first letter of every word upper-cased. */
function title(s: string): string {
  let prev = ' ';
  let out = '';
  for (const c of s) {
    out += /[\p{L}\p{N}_]/u.test(prev) ? c : c.toUpperCase();
    prev = c;
  }
  return out;
}

const htmlEscape = (s: string) => s.replace(/[&'<>"\0]/g, (c) => ({ '&': '&amp;', "'": '&#39;', '<': '&lt;', '>': '&gt;', '"': '&#34;', '\0': '\uFFFD' })[c]!);
const jsEscape = (s: string) => s.replace(/[\\'"<>&=\0-\x1f]/g, (c) => ({ '\\': '\\\\', "'": "\\'", '"': '\\"' } as Record<string, string>)[c] ?? `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`);
const stringify = (args: unknown[]) => (args.length === 1 && typeof args[0] === 'string' ? args[0] : sprint(args));

const BUILTINS: Record<string, Fn> = {
  and: { params: ['a'], variadic: true, fn: () => undefined }, // short-circuit: evaluated in call()
  or: { params: ['a'], variadic: true, fn: () => undefined },
  not: { params: ['a'], fn: (a) => !truth(a) },
  len: { params: ['a'], fn: len },
  index: { params: ['a'], variadic: true, fn: index },
  slice: { params: ['a'], variadic: true, fn: slice },
  print: { params: [], variadic: true, fn: (...a) => sprint(a) },
  printf: { params: ['s'], variadic: true, fn: (f, ...a) => sprintf(f, a) },
  println: { params: [], variadic: true, fn: (...a) => sprintln(a) },
  eq: { params: ['a'], variadic: true, fn: eq },
  ne: { params: ['a', 'a'], fn: (a, b) => !eq(a, b) },
  lt: { params: ['a', 'a'], fn: lt },
  le: { params: ['a', 'a'], fn: (a, b) => lt(a, b) || eq(a, b) },
  gt: { params: ['a', 'a'], fn: (a, b) => !lt(a, b) && !eq(a, b) },
  ge: { params: ['a', 'a'], fn: (a, b) => !lt(a, b) },
  html: { params: [], variadic: true, fn: (...a) => htmlEscape(stringify(a)) },
  js: { params: [], variadic: true, fn: (...a) => jsEscape(stringify(a)) },
  urlquery: { params: [], variadic: true, fn: (...a) => encodeURIComponent(stringify(a)).replace(/%20/g, '+').replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase()) },
  call: { params: ['a'], variadic: true, fn: (f, ...a) => { if (typeof f !== 'function') throw new FuncError(`non-function of type ${typeName(f)}`); return f(...a); } },
  // Docker's (docker/cli templates.go basicFunctions)
  json: { params: ['a'], fn: toJSON },
  split: { params: ['s', 's'], fn: (s: string, sep: string) => s.split(sep) },
  join: { params: ['S', 's'], fn: (a: string[], sep: string) => a.join(sep) },
  title: { params: ['s'], fn: title },
  lower: { params: ['s'], fn: (s: string) => s.toLowerCase() },
  upper: { params: ['s'], fn: (s: string) => s.toUpperCase() },
  pad: { params: ['s', 'i', 'i'], fn: (s: string, a: number, b: number) => (s === '' ? s : ' '.repeat(a) + s + ' '.repeat(b)) },
  truncate: { params: ['s', 'i'], fn: (s: string, n: number) => (Buffer.byteLength(s) < n ? s : Buffer.from(s).subarray(0, n).toString()) },
};

/** Docker's HeaderFunctions: a table's header row keeps the column names whole (pad is not replaced, to keep alignment). */
const HEADER: Record<string, Fn> = {
  ...BUILTINS,
  json: { params: ['s'], fn: (v) => v },
  split: { params: ['s', 's'], fn: (v) => v },
  join: { params: ['s', 's'], fn: (v) => v },
  title: { params: ['s'], fn: (v) => v },
  lower: { params: ['s'], fn: (v) => v },
  upper: { params: ['s'], fn: (v) => v },
  truncate: { params: ['s', 'i'], fn: (v) => v },
};

// ---------------------------------------------------------------- execution
const NONE = Symbol('no final value');
class Break { constructor(readonly cont: boolean) {} }

export interface ExecOptions {
  /** Go's Option("missingkey=error"): a missing map key is an error, not <no value>. */
  missingKey?: 'error';
  /** Execute with Docker's HeaderFunctions (a table's header row). */
  header?: boolean;
}

export class Template {
  constructor(private src: string, private root: Node[]) {}

  /** Run over `data`; throws TemplateExecError (with what was printed so far). */
  execute(data: unknown, opts: ExecOptions = {}): string {
    const st = new State(this.src, data, opts);
    try {
      st.walkList(data, this.root);
    } catch (e) {
      if (e instanceof TemplateExecError) throw new TemplateExecError(e.message, st.out);
      throw e;
    }
    return st.out;
  }
}

/** Parse `src` (Go's template.New("").Funcs(Docker's).Parse); throws TemplateParseError. */
export function parseTemplate(src: string): Template {
  return new Template(src, new Parser(lex(src), new Set(Object.keys(BUILTINS))).parse());
}

class State {
  out = '';
  private vars: [string, unknown][];
  private at: { pos: number; s: string } = { pos: 0, s: '' };
  private funcs: Record<string, Fn>;
  constructor(private src: string, data: unknown, private opts: ExecOptions) {
    this.vars = [['$', data]];
    this.funcs = opts.header ? HEADER : BUILTINS;
  }

  private err(msg: string): never {
    const before = this.src.slice(0, this.at.pos);
    const nl = before.lastIndexOf('\n');
    const line = 1 + (before.match(/\n/g)?.length ?? 0);
    throw new TemplateExecError(`template: :${line}:${nl === -1 ? this.at.pos : this.at.pos - nl - 1}: executing "" at <${this.at.s}>: ${msg}`);
  }

  walkList(dot: unknown, list: Node[]) {
    for (const n of list) this.walk(dot, n);
  }

  private walk(dot: unknown, n: Node) {
    switch (n.k) {
      case 'text': this.out += n.text; return;
      case 'action': {
        const v = this.pipeline(dot, n.pipe);
        if (!n.pipe.decl.length) this.print(v, n.pipe);
        return;
      }
      case 'if': case 'with': {
        const mark = this.vars.length;
        const v = this.pipeline(dot, n.pipe);
        if (truth(v)) this.walkList(n.k === 'with' ? v : dot, n.list);
        else if (n.else) this.walkList(dot, n.else);
        this.vars.length = mark;
        return;
      }
      case 'range': return this.range(dot, n);
      case 'break': case 'continue': throw new Break(n.k === 'continue');
    }
  }

  private print(v: unknown, at: Pipe) {
    if (typeof v === 'function') { this.at = at; this.err(`can't print ${at.s} of type func`); }
    this.out += sprintValue(v, true);
  }

  private range(dot: unknown, n: Control) {
    const mark = this.vars.length;
    const v = this.pipeline(dot, n.pipe);
    const nd = n.pipe.decl.length;
    const one = (key: unknown, elem: unknown): boolean => {
      const m = this.vars.length;
      if (nd > 0) this.setVar(n.pipe.decl[nd - 1], elem, n.pipe.assign);
      if (nd > 1) this.setVar(n.pipe.decl[0], key, n.pipe.assign);
      try {
        this.walkList(elem, n.list);
      } catch (e) {
        if (!(e instanceof Break)) throw e;
        return e.cont;
      } finally {
        this.vars.length = m;
      }
      return true;
    };
    let items: [unknown, unknown][];
    if (Array.isArray(v)) items = v.map((e, i) => [i, e]);
    else if (v instanceof Map) items = [...v.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map((k) => [k, v.get(k)]);
    else if (isNum(v) && Number.isInteger(num(v))) {
      if (nd > 1) { this.at = n.pipe; this.err(`can't use ${num(v)} to iterate over more than one variable`); }
      items = Array.from({ length: Math.max(0, num(v)) }, (_, i) => [i, i]);
    } else if (v === undefined || v === null) items = [];
    else { this.at = n.pipe; this.err(`range can't iterate over ${sprintValue(v)}`); }
    for (const [k, e] of items) if (!one(k, e)) break;
    if (!items.length && n.else) this.walkList(dot, n.else);
    this.vars.length = mark;
  }

  private setVar(name: string, v: unknown, assign: boolean) {
    if (!assign) { this.vars.push([name, v]); return; }
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i][0] === name) { this.vars[i][1] = v; return; }
    this.err(`undefined variable: ${name}`);
  }

  private pipeline(dot: unknown, p: Pipe): unknown {
    let v: unknown = NONE;
    for (const c of p.cmds) v = this.command(dot, c, v);
    for (const d of p.decl) this.setVar(d, v, p.assign);
    return v;
  }

  private command(dot: unknown, c: Cmd, final: unknown): unknown {
    const first = c.args[0];
    switch (first.k) {
      case 'field': this.at = first; return this.fieldChain(dot, dot, first.names, c.args, final);
      case 'chain': { const r = this.arg(dot, first.node); this.at = first; return this.fieldChain(dot, r, first.names, c.args, final); }
      case 'ident': this.at = first; return this.callFunc(dot, first.name, c, c.args, final);
      case 'pipe': this.at = first; this.noArgs(c.args, final); return this.pipeline(dot, first.pipe);
      case 'var': {
        this.at = first;
        const v = this.lookup(first.name);
        if (!first.names.length) { this.noArgs(c.args, final); return v; }
        return this.fieldChain(dot, v, first.names, c.args, final);
      }
      case 'lit':
        this.at = first;
        this.noArgs(c.args, final);
        if (first.lit === 'nil') this.err('nil is not a command');
        return first.v === DOT ? dot : first.v;
    }
  }

  private noArgs(args: Arg[], final: unknown) {
    if (args.length > 1 || final !== NONE) this.err(`can't give argument to non-function ${args[0].s}`);
  }

  private lookup(name: string): unknown {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i][0] === name) return this.vars[i][1];
    this.err(`undefined variable: ${name}`);
  }

  private fieldChain(dot: unknown, recv: unknown, names: string[], args: Arg[], final: unknown): unknown {
    for (let i = 0; i < names.length - 1; i++) recv = this.field(dot, names[i], [], NONE, recv);
    return this.field(dot, names[names.length - 1], args, final, recv);
  }

  private field(dot: unknown, name: string, args: Arg[], final: unknown, recv: unknown): unknown {
    if (recv === undefined || recv === null) {
      if (this.opts.missingKey === 'error') this.err(`nil data; no entry for key ${JSON.stringify(name)}`);
      return undefined;
    }
    const hasArgs = args.length > 1 || final !== NONE;
    if (recv instanceof Map) {
      if (hasArgs) this.err(`${name} is not a method but has arguments`);
      if (recv.has(name)) return recv.get(name);
      if (this.opts.missingKey === 'error') this.err(`map has no entry for key ${JSON.stringify(name)}`);
      return undefined;
    }
    if (isStruct(recv) && Object.prototype.hasOwnProperty.call(recv, name)) {
      const v = recv[name];
      if (typeof v === 'function') return this.call(dot, { params: Array(v.length).fill('a'), fn: v.bind(recv) }, name, args, final);
      if (hasArgs) this.err(`${name} has arguments but cannot be invoked as function`);
      return v;
    }
    this.err(`can't evaluate field ${name} in type ${typeName(recv)}`);
  }

  private callFunc(dot: unknown, name: string, c: Cmd, args: Arg[], final: unknown): unknown {
    const f = this.funcs[name];
    const at = this.at;
    if (name === 'and' || name === 'or') {
      const all = args.slice(1);
      if (!all.length && final === NONE) this.err(`wrong number of args for ${name}: want at least 1 got 0`);
      let v: unknown;
      for (let i = 0; i < all.length + (final === NONE ? 0 : 1); i++) {
        v = i < all.length ? this.arg(dot, all[i]) : final;
        if (truth(v) === (name === 'or')) return v;
      }
      return v;
    }
    this.at = at;
    return this.call(dot, f, name, args, final, c);
  }

  /** Go's evalCall: evaluate and type the arguments, append the piped value, call; errors as Go words them. */
  private call(dot: unknown, f: Fn, name: string, args: Arg[], final: unknown, c?: Cmd): unknown {
    const at = this.at;
    const n = args.length - 1 + (final === NONE ? 0 : 1);
    if (f.variadic ? n < f.params.length : n !== f.params.length) {
      this.err(`wrong number of args for ${name}: want ${f.variadic ? 'at least ' : ''}${f.params.length} got ${n}`);
    }
    const vals = args.slice(1).map((a) => this.arg(dot, a));
    if (final !== NONE) vals.push(final);
    vals.forEach((v, i) => {
      const want = f.params[i] ?? 'a';
      const ok = want === 'a' || (want === 's' && typeof v === 'string') || (want === 'i' && isNum(v) && Number.isInteger(num(v))) ||
        (want === 'S' && Array.isArray(v) && v.every((e) => typeof e === 'string'));
      if (!ok) {
        this.at = i < args.length - 1 ? args[i + 1] : at;
        const a1 = args[i + 1];
        const lit = i < args.length - 1 && a1.k === 'lit' ? a1 : undefined;
        if (lit && lit.v !== DOT) this.err(`expected ${{ s: 'string', i: 'int', S: '[]string', a: 'interface {}' }[want]}; found ${lit.s}`);
        this.err(`wrong type for value; expected ${{ s: 'string', i: 'int', S: '[]string', a: 'interface {}' }[want]}; got ${typeName(v)}`);
      }
    });
    try {
      return f.fn(...vals.map((v, i) => (f.params[i] === 'i' ? num(v) : v)));
    } catch (e: any) {
      this.at = c ?? at;
      if (e instanceof TemplateExecError) throw e;
      this.err(`error calling ${name}: ${e.message}`);
    }
  }

  private arg(dot: unknown, a: Arg): unknown {
    this.at = a;
    switch (a.k) {
      case 'field': return this.fieldChain(dot, dot, a.names, [a], NONE);
      case 'var': { const v = this.lookup(a.name); return a.names.length ? this.fieldChain(dot, v, a.names, [a], NONE) : v; }
      case 'chain': { const r = this.arg(dot, a.node); this.at = a; return this.fieldChain(dot, r, a.names, [a], NONE); }
      case 'pipe': return this.pipeline(dot, a.pipe);
      case 'ident': return this.callFunc(dot, a.name, { args: [a], pos: a.pos, s: a.s }, [a], NONE);
      case 'lit': return a.v === DOT ? dot : a.v;
    }
  }
}
