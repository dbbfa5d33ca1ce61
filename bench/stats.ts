// The benches' summary numbers.

/** The q-quantile (nearest rank) of xs, or null for no samples. */
export function quantile(xs: number[], q: number): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

/** a / b, or null when either is missing (or b is 0). */
export const ratio = (a: number | null | undefined, b: number | null | undefined) => (a != null && b ? a / b : null);
