// The supervisor's check (lib/supervisor/run-request.ts) of run-extra.ts's spec fields in a
// pooled run's request: each is parsed again from the text it came from and must come out
// the same, so a request can carry nothing the flags could not have made.
import { parseUlimit } from './ulimits';
import { parseDevice } from './devices';
import { parseLog } from './run-extra';

export function checkRunExtra(s: any, bad: (what: string) => never) {
  const isStr = (v: unknown): v is string => typeof v === 'string';
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  const again = <T>(what: string, f: () => T): T => { try { return f(); } catch { return bad(what); } };
  if (s.labels !== undefined) {
    if (!s.labels || typeof s.labels !== 'object' || Array.isArray(s.labels)) bad('labels');
    for (const [k, v] of Object.entries(s.labels)) if (!k || !isStr(v)) bad('labels');
  }
  if (s.ulimits !== undefined) {
    if (!Array.isArray(s.ulimits)) bad('ulimits');
    s.ulimits = s.ulimits.map((u: any) => {
      const r = again('ulimits', () => parseUlimit(`${u?.name}=${u?.soft}:${u?.hard}`));
      if (!same(r, u)) bad('ulimits');
      return r;
    });
  }
  if (s.shmSize !== undefined && !(Number.isSafeInteger(s.shmSize) && s.shmSize > 0)) bad('shmSize');
  if (s.oomScoreAdj !== undefined && !(Number.isInteger(s.oomScoreAdj) && s.oomScoreAdj >= -1000 && s.oomScoreAdj <= 1000)) bad('oomScoreAdj');
  if (s.devices !== undefined) {
    if (!Array.isArray(s.devices)) bad('devices');
    // stat()ed again here: the node the supervisor makes is the one the host has now
    s.devices = s.devices.map((d: any) => {
      if (!isStr(d?.source) || !d.source.startsWith('/') || !isStr(d.target) || !isStr(d.permissions)) bad('devices');
      const r = again('devices', () => parseDevice(`${d.source}:${d.target}:${d.permissions}`));
      if (!same(r, d)) bad('devices');
      return r;
    });
  }
  if (s.log !== undefined) {
    const opts = s.log?.opts && typeof s.log.opts === 'object' ? Object.entries(s.log.opts).map(([k, v]) => `${k}=${v}`) : bad('log');
    const r = again('log', () => parseLog(s.log.type, opts));
    if (!same(r, s.log)) bad('log');
    s.log = r;
  }
}
