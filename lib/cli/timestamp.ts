// `logs --since/--until` values as Docker reads them (api/types/time GetTimestamp): a Go
// duration before now ("10m", "1h30m", "1.5h"), a Unix time with an optional fraction
// ("1700000000.5"), or an RFC 3339 date, whole or cut after the day, hour or minute, with a
// zone or without (then local time). Times are nanoseconds since the epoch as a bigint: log
// records carry more precision than a Date does.

const UNIT: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's time.ParseDuration, in nanoseconds; undefined when it is not one. */
export function parseDuration(s: string): number | undefined {
  const m = /^([-+]?)((?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+|0)$/.exec(s);
  if (!m) return undefined;
  let ns = 0;
  for (const [, n, u] of m[2].matchAll(/(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) ns += Number(n) * UNIT[u];
  return m[1] === '-' ? -ns : ns;
}

/** A timestamp argument → nanoseconds since the epoch; throws Docker's words when it is none of the forms. */
export function parseTimestamp(value: string, now = Date.now()): bigint {
  const d = parseDuration(value);
  if (d !== undefined) return BigInt(now) * 1_000_000n - BigInt(Math.round(d));
  const unix = /^(\d+)(?:\.(\d{1,9}))?$/.exec(value);
  if (unix) return BigInt(unix[1]) * 1_000_000_000n + BigInt((unix[2] ?? '').padEnd(9, '0'));
  const t = /^(\d{4}-\d{2}-\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?)?(Z|[+-]\d{2}:\d{2})?$/.exec(value);
  if (t) {
    const [, day, h = '00', min = '00', sec = '00', frac = '', zone] = t;
    const ms = Date.parse(`${day}T${h}:${min}:${sec}${zone ?? ''}`); // no zone: Date.parse reads local time, as Docker does
    if (!Number.isNaN(ms)) return BigInt(ms) * 1_000_000n + BigInt(frac.padEnd(9, '0'));
  }
  throw new Error(`failed to parse value as time or duration: "${value}"`);
}

/** A log record's time ("2024-01-02T03:04:05.123456789Z") → nanoseconds since the epoch. */
export function recordTime(iso: string): bigint {
  const m = /^(.*?)(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/.exec(iso);
  if (!m) return BigInt(Date.parse(iso)) * 1_000_000n;
  return BigInt(Date.parse(m[1] + m[3])) * 1_000_000n + BigInt((m[2] ?? '').slice(0, 9).padEnd(9, '0'));
}
