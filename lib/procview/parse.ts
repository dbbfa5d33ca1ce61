// Small parsers for the kernel's text files that every view shares. Inputs are file contents
// (the views are pure: test/unit/procview-*.test.ts feeds them real files' text).

/** "key value" lines (memory.stat, cpu.stat) → numbers; lines that are not that are skipped. */
export function parseKv(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^\d+$/.test(v)) m.set(k, Number(v));
  }
  return m;
}

/** A limit file's value in bytes or units; undefined for "max", -1 or no value (no limit). */
export function parseLimit(text: string | undefined): number | undefined {
  const t = text?.trim();
  if (!t || t === 'max' || !/^\d+$/.test(t)) return undefined;
  return Number(t);
}

/** "0-3,5,7-8" → [0,1,2,3,5,7,8]; at most 4096 CPUs, as the kernel's NR_CPUS bounds it anyway. */
export function parseCpuList(text: string): number[] {
  const out = new Set<number>();
  for (const part of text.trim().split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) continue;
    const a = Number(m[1]), b = m[2] === undefined ? a : Number(m[2]);
    for (let i = a; i <= b && i < 4096; i++) out.add(i);
  }
  return [...out].sort((x, y) => x - y);
}

/** /proc/meminfo-style "Label:   12345 kB" lines → kB values. */
export function parseMeminfo(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split('\n')) {
    const r = /^([^:]+):\s+(\d+)/.exec(line);
    if (r) m.set(r[1], Number(r[2]));
  }
  return m;
}
