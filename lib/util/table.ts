// Docker's plain tables (`ps`, `images`, `stats`, `top`, `ns`): columns padded to the widest
// cell plus a gap, the last column not padded, no trailing spaces.
export function table(rows: string[][], gap = 3): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i < r.length - 1 ? c.padEnd(widths[i] + gap) : c)).join('').trimEnd() + '\n').join('');
}
