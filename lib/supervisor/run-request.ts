// The supervisor's check of an attached `box run` request (run-client.ts runMessage): it
// comes over a root-only socket from a root client, but it is input all the same. What the
// client parsed (parseRun) is taken as data, never re-resolved here: its shape and types are
// checked, and every name or path the supervisor will use (a name reserved as a file, host
// paths bound or read, the image) is held to the same rules as parseRun's, absolute paths
// only — a relative one would resolve in the supervisor's cwd, not the client's.
import { RunRequest, NAME_RE, HOST_RE, parseVolume, parseTmpfs } from '../options/run';
import { CAPS } from '../options/capabilities';
import { parseProfile } from '../seccomp/profile';
import { findImage } from '../image/store';
import { BoxError } from '../libc/errors';
import { checkRunExtra } from '../options/run-extra-check';
import { checkEtcFields } from '../options/etc';

const RESOURCE_NUMBERS = ['nanoCpus', 'cpuPeriod', 'cpuQuota', 'cpuShares', 'memory', 'memorySwap', 'memoryReservation', 'pidsLimit'];
const FLAGS = ['tty', 'stdin', 'rm', 'init', 'readOnly', 'noPivot', 'privileged', 'noNewPrivileges'] as const;

const bad = (what: string): never => { throw new BoxError(`box: supervisor: invalid run request (${what})`); };
const isStr = (v: unknown): v is string => typeof v === 'string';
const strings = (v: unknown, what: string): string[] => (Array.isArray(v) && v.every(isStr) ? v : bad(what));
const absolute = (v: unknown, what: string): string => (isStr(v) && v.startsWith('/') && !v.includes('\0') ? v : bad(what));

/** A checked RunRequest from the message's `runAttached` and `imagePath`; throws BoxError (exit 125). */
export function checkRunRequest(data: any, imagePath: unknown): RunRequest {
  if (!data || typeof data !== 'object' || !data.spec || typeof data.spec !== 'object') bad('not a request');
  if (data.detach !== false) bad('detach');
  if (data.entrypoint !== undefined && !isStr(data.entrypoint)) bad('entrypoint');
  const s = data.spec;
  if (!isStr(s.name) || (s.name !== '' && !NAME_RE.test(s.name))) bad('name');
  if (!isStr(s.hostname) || (s.hostname !== '' && !HOST_RE.test(s.hostname))) bad('hostname');
  if (!isStr(s.image) || !s.image || s.image.includes('\0')) bad('image');
  strings(s.command, 'command');
  for (const e of strings(s.env, 'env')) if (e.indexOf('=') < 1) bad('env');
  if (s.workdir !== undefined) absolute(s.workdir, 'workdir');
  if (s.user !== undefined && !isStr(s.user)) bad('user');
  for (const f of FLAGS) if (typeof s[f] !== 'boolean') bad(f);
  for (const c of strings(s.capabilities, 'capabilities')) if (!CAPS.includes(c)) bad('capabilities');
  if (!Array.isArray(s.volumes) || !Array.isArray(s.tmpfs)) bad('volumes');
  s.volumes = s.volumes.map((v: any) => {
    const mode = v?.readonly === true ? 'ro' : 'rw';
    const again = v?.name === undefined ? parseVolume(`${absolute(v?.source, 'volume')}:${absolute(v?.target, 'volume')}:${mode}`)
      : v.anonymous === true ? { ...parseVolume(absolute(v.target, 'volume'), isStr(v.name) ? v.name : bad('volume')), readonly: v.readonly === true }
      : parseVolume(`${isStr(v.name) && !v.name.startsWith('/') ? v.name : bad('volume')}:${absolute(v.target, 'volume')}:${mode}`);
    if (again.source !== v.source || again.target !== v.target || typeof v.readonly !== 'boolean' || again.name !== v.name) bad('volume');
    if (v.populate === false) again.populate = false;
    return again;
  });
  checkRunExtra(s, bad);
  s.tmpfs = s.tmpfs.map((t: any) => {
    if (!isStr(t?.options)) bad('tmpfs');
    const again = parseTmpfs(`${absolute(t.target, 'tmpfs')}${t.options ? `:${t.options}` : ''}`);
    if (again.target !== t.target || again.options !== t.options) bad('tmpfs');
    return again;
  });
  const r = s.resources;
  if (!r || typeof r !== 'object' || r.devices !== undefined) bad('resources');
  for (const [k, v] of Object.entries(r)) {
    const ok = RESOURCE_NUMBERS.includes(k) ? Number.isFinite(v) : k === 'memorySwappiness' ? Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 100 : (k === 'cpusetCpus' || k === 'cpusetMems') ? isStr(v) && /^[0-9,-]*$/.test(v) : false;
    if (!ok && v !== undefined) bad(`resources.${k}`);
  }
  if (!isStr(s.stopSignal) || !/^(SIG[A-Z0-9+-]+|\d+)$/.test(s.stopSignal)) bad('stopSignal');
  if (!Number.isInteger(s.stopTimeout)) bad('stopTimeout');
  // an attached run with a restart policy is run detached by its client (lib/cli/run.ts), never pooled
  if (s.restart !== undefined && (s.restart?.name !== 'no' || s.restart.maximumRetryCount !== 0)) bad('restart');
  if (!checkEtcFields(s)) bad('add-host, dns, sysctl or group-add');
  if (s.procView !== undefined && s.procView !== false) bad('procView');
  // seccomp: the profile the client read, checked again as the text it came from would be
  const sc = data.seccomp;
  if (sc?.kind === 'file') {
    absolute(sc.path, 'seccomp');
    try { data.seccomp = { kind: 'file', path: sc.path, profile: parseProfile(JSON.stringify(sc.profile)) }; } catch { bad('seccomp'); }
  } else if (sc?.kind !== 'builtin' && sc?.kind !== 'unconfined') bad('seccomp');
  if (s.seccomp !== (data.seccomp.kind === 'file' ? data.seccomp.path : data.seccomp.kind)) bad('seccomp');
  // resolveImage's order: the store, then a path — relative to the client's cwd, never ours
  if (!s.image.startsWith('/') && (s.image.startsWith('.') || (s.image.includes('/') && !findImage(s.image)))) {
    if (imagePath === undefined) throw new BoxError(`box run: image "${s.image}": no such file or directory`); // resolveImage's words
    s.image = absolute(imagePath, 'image path');
  }
  return { detach: false, entrypoint: data.entrypoint, seccomp: data.seccomp, spec: s };
}
