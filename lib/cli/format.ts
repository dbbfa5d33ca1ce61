// --format as Docker's CLI applies it (docker/cli formatter.Context and inspect.Inspector):
// list verbs (ps, images, stats) run the template once per row, a "table " prefix adds a header
// row made from the same template over the column names and aligns the lot with Go's
// tabwriter (min width 10, padding 3); inspect runs it per object and, when a field is missing,
// again over the object as plain JSON maps, as Docker does, so the error names the map key.
import { BoxError } from '../libc/errors';
import { parseTemplate, Template, TemplateParseError, TemplateExecError } from './template';
import { sprintf, GoFloat } from './gofmt';

/** Docker's status for a template that does not parse, where it sets one (inspect, info); list verbs exit 1. */
export const PARSE_STATUS = 64;

export function parseFormat(verb: string, src: string, status = 1): Template {
  try {
    return parseTemplate(src);
  } catch (e) {
    if (e instanceof TemplateParseError) throw new BoxError(`box ${verb}: template parsing error: ${e.message}`, status);
    throw e;
  }
}

/** A custom --format (not empty, not "json", not the bare "table" that means the default table). */
export const isCustom = (f: string | undefined): f is string => !!f && f !== 'json' && f !== 'table';

/**
 * The rows of a list verb through a Docker format: `\t` and `\n` written as two characters are
 * a tab and a newline; "table …" prints a header row (the template over `header`, Docker's
 * column names, with json/split/join/title/lower/upper/truncate left out) and aligns columns.
 * Nothing is printed when a row fails: the error is "template parsing error: …", exit 1.
 */
export function formatList(verb: string, format: string, rows: object[], header: Record<string, string>): string {
  const table = format.startsWith('table');
  const tmpl = parseList(verb, format);
  let out = '';
  for (const r of rows) {
    try {
      out += tmpl.execute(r) + '\n';
    } catch (e) {
      if (e instanceof TemplateExecError) throw new BoxError(`box ${verb}: template parsing error: ${e.message}`, 1);
      throw e;
    }
  }
  if (!table) return out;
  let head: string;
  try {
    head = tmpl.execute(new Map(Object.entries(header)), { header: true });
  } catch (e) {
    if (!(e instanceof TemplateExecError)) throw e;
    head = e.partial; // Docker ignores a header row that fails, keeping what it printed
  }
  return tabwrite(head + '\n' + out);
}

/** A list verb's template as Docker reads it (after "table", with \t and \n made real); throws as parseFormat. */
export function parseList(verb: string, format: string): Template {
  const src = (format.startsWith('table') ? format.slice(5) : format).replace(/^ +| +$/g, '').replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  return parseFormat(verb, src);
}

/** One object through an inspect template: Docker retries a failure over the JSON as maps with missingkey=error. */
export function inspectOne(verb: string, tmpl: Template, typed: unknown, json: unknown): string {
  try {
    return tmpl.execute(typed);
  } catch (e) {
    if (!(e instanceof TemplateExecError)) throw e;
  }
  try {
    return tmpl.execute(asMaps(JSON.parse(JSON.stringify(json))), { missingKey: 'error' });
  } catch (e: any) {
    if (!(e instanceof TemplateExecError)) throw e;
    throw new BoxError(`box ${verb}: template parsing error: ${e.message}`, 1);
  }
}

/** Decoded JSON as Go's `any` holds it: objects are maps. */
export function asMaps(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(asMaps);
  if (v && typeof v === 'object') return new Map(Object.entries(v).map(([k, x]) => [k, asMaps(x)]));
  return v;
}

/**
 * Go's text/tabwriter (Docker's fork) with minwidth 10, tabwidth 1, padding 3, padchar ' ':
 * tab-terminated cells of contiguous lines form a column as wide as its widest cell + 3 (at
 * least 10); a line's last cell is not part of a column; a line without tabs ends the block.
 */
export function tabwrite(text: string, minwidth = 10, padding = 3): string {
  const lines = text.split('\n').map((l) => l.split('\t'));
  const width = (s: string) => [...s].length;
  let out = '';
  const writeLines = (from: number, to: number, widths: number[]) => {
    for (let i = from; i < to; i++) {
      lines[i].forEach((c, j) => { out += j < widths.length && j < lines[i].length - 1 ? c + ' '.repeat(Math.max(0, widths[j] - width(c))) : c; });
      if (i + 1 < lines.length) out += '\n';
    }
  };
  const format = (from: number, to: number, widths: number[]) => {
    const column = widths.length;
    let line0 = from;
    for (let t = from; t < to; t++) {
      if (column >= lines[t].length - 1) continue;
      writeLines(line0, t, widths);
      line0 = t;
      let w = minwidth;
      for (; t < to && column < lines[t].length - 1; t++) w = Math.max(w, width(lines[t][column]) + padding);
      format(line0, t, [...widths, w]);
      line0 = t;
      t--;
    }
    writeLines(line0, to, widths);
  };
  // a line of one cell flushes: the lines after it start new columns
  let start = 0;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].length === 1 || i === lines.length - 1) { format(start, i + 1, []); start = i + 1; }
  }
  return out;
}

/** Go's time.Time.String() of a date, in local time: "2006-01-02 15:04:05 -0700 MST" (Docker's CreatedAt). */
export function goTime(iso: string): string {
  const d = new Date(iso);
  const off = -d.getTimezoneOffset();
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const zone = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d).find((x) => x.type === 'timeZoneName')?.value ?? '';
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} ` +
    `${off < 0 ? '-' : '+'}${p(Math.floor(Math.abs(off) / 60))}${p(Math.abs(off) % 60)} ${zone === 'GMT' && off === 0 ? 'UTC' : zone}`;
}

/**
 * go-units HumanSizeWithPrecision(n, precision): decimal units, `precision` significant digits.
 * 3 for Docker's image and container sizes ("12.3kB", "1.23GB"); 4 is go-units' HumanSize, prune's
 * "Total reclaimed space" ("220.3MB").
 */
export function humanSize(n: number, precision = 3): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return sprintf(`%.${precision}g%s`, [new GoFloat(n), units[i]]);
}

