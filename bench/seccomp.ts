// Seccomp cost benchmark (issue 11): what Docker's default filter costs a container.
//  * per-syscall overhead: test/fixtures/seccomp-probe.c's `getppid-loop N 20` (N raw getppid
//    calls in 20 batches; the fastest batch's ns per call, measured inside the probe, so
//    start-up is not in it) in a box container with the default filter, with an allow-all
//    one (the floor of any filter) and with `seccomp=unconfined`, in runc with Docker's
//    profile and without one, and on the host;
//  * start-up cost of the filter: `box run --rm busybox true`, default vs `seccomp=unconfined`.
// All in interleaved rounds, as bench/startup.ts does, so noise from the shared machine hits
// every case alike. Every box uses a private BOX_ROOT in a temp dir, runc a private --root.
//   npx tsx bench/seccomp.ts [--runs N] [--loops N] [--calls N] [--json] [--runc-profile FILE]
// runc's profile: FILE (an OCI config.json with linux.seccomp, an OCI LinuxSeccomp, or a
// Docker profile.json, resolved here for Docker's default capabilities), else box's own
// built-in Docker profile, resolved the same way.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { dockerDefaultProfile } from '../lib/seccomp/docker-default';
import { CG_PARENT, removeRuncCgroups, removeTmp } from './cleanup';

const argv = process.argv.slice(2);
const num = (flag: string, dflt: number) => {
  const i = argv.indexOf(flag);
  const v = i >= 0 ? Number(argv[i + 1]) : dflt;
  if (!Number.isInteger(v) || v < 1) throw new Error(`${flag} wants a positive integer`);
  return v;
};
const RUNS = num('--runs', 30);        // start-up rounds
const LOOPS = num('--loops', 10);      // per-syscall rounds
const CALLS = num('--calls', 1000000); // getppid calls per round
const JSON_OUT = argv.includes('--json');
const profileArg = argv.indexOf('--runc-profile');
const RUNC_PROFILE = profileArg >= 0 ? path.resolve(argv[profileArg + 1] ?? '') : null;
if (process.geteuid!() !== 0) { console.error('bench/seccomp.ts: must run as root (box and runc need it)'); process.exit(1); }

const REPO = path.resolve(__dirname, '..');
const BOX = path.join(REPO, 'box');
const onPath = (cmd: string) => (process.env.PATH || '').split(':').some((d) => d && fs.existsSync(path.join(d, cmd)));
const run = (cmd: string, args: string[], env = process.env) => spawnSync(cmd, args, { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });

// Docker's default capabilities: the bounding set its profile's includes/excludes are decided against.
const DOCKER_CAPS = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE'];

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'box-bench-seccomp-'));
fs.chmodSync(tmp, 0o755);
const runcRoot = path.join(tmp, 'runc-state');
const runcIds = new Set<string>();
const boxEnv = { ...process.env, BOX_ROOT: path.join(tmp, 'box-root') };

let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => { interrupted = true; });
const tick = () => new Promise((resolve) => setImmediate(resolve));

/**
 * Docker's profile.json → the OCI LinuxSeccomp Docker hands runc: the host's architectures
 * from archMap, and only the rules whose conditions hold for `caps` on this host (includes:
 * every listed capability held, the architecture listed, the kernel new enough; excludes: none
 * of the listed capabilities held, the architecture not listed). An OCI object passes through.
 */
function resolveDocker(p: any, caps: string[]): any {
  if (!p.archMap && !(p.syscalls ?? []).some((r: any) => r.includes || r.excludes)) return p;
  const goArch = process.arch === 'x64' ? 'amd64' : process.arch;
  const native = process.arch === 'x64' ? 'SCMP_ARCH_X86_64' : process.arch === 'arm64' ? 'SCMP_ARCH_AARCH64' : '';
  const entry = (p.archMap ?? []).find((a: any) => a.architecture === native);
  const kernel = os.release().split(/[.-]/).map(Number);
  const kernelAtLeast = (v: string) => { const w = v.split('.').map(Number); return kernel[0] > w[0] || (kernel[0] === w[0] && kernel[1] >= (w[1] ?? 0)); };
  const syscalls = (p.syscalls ?? []).filter((r: any) => {
    const inc = r.includes ?? {}, exc = r.excludes ?? {};
    if (exc.caps?.some((c: string) => caps.includes(c))) return false;
    if (exc.arches?.includes(goArch)) return false;
    if (inc.caps?.length && !inc.caps.every((c: string) => caps.includes(c))) return false;
    if (inc.arches?.length && !inc.arches.includes(goArch)) return false;
    if (inc.minKernel && !kernelAtLeast(inc.minKernel)) return false;
    return true;
  }).map((r: any) => ({ names: r.names ?? [r.name], action: r.action, ...(r.errnoRet !== undefined ? { errnoRet: r.errnoRet } : {}), ...(r.args ? { args: r.args } : {}) }));
  return {
    defaultAction: p.defaultAction,
    ...(p.defaultErrnoRet !== undefined ? { defaultErrnoRet: p.defaultErrnoRet } : {}),
    architectures: entry ? [entry.architecture, ...entry.subArchitectures] : p.architectures ?? [native],
    syscalls,
  };
}

/** runc's seccomp section, and where it came from; null with the reason when there is none. */
function runcSeccomp(): { seccomp: any; from: string } {
  if (RUNC_PROFILE) {
    const j = JSON.parse(fs.readFileSync(RUNC_PROFILE, 'utf8'));
    return { seccomp: resolveDocker(j.linux?.seccomp ?? j, DOCKER_CAPS), from: RUNC_PROFILE };
  }
  return { seccomp: resolveDocker(dockerDefaultProfile(), DOCKER_CAPS), from: `box's built-in Docker profile (lib/seccomp/docker-default.ts), resolved for Docker's default capabilities` };
}

interface Case { name: string; cmd: string; args: (i: number) => string[]; env?: NodeJS.ProcessEnv; onFail?: (i: number) => void; values: number[]; failed: number }
const skipped: { name: string; reason: string }[] = [];
const mk = (c: Omit<Case, 'values' | 'failed'>): Case => ({ ...c, values: [], failed: 0 });

/** Interleaved rounds (one untimed warm-up); `measure` turns a finished run into its value. */
async function rounds(cases: Case[], n: number, measure: (stdout: string, ms: number) => number | null) {
  for (let i = -1; i < n && !interrupted; i++) {
    for (const c of cases) {
      if (interrupted) break;
      const args = c.args(i);
      const t0 = process.hrtime.bigint();
      const r = run(c.cmd, args, c.env);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      await tick();
      if (r.signal === 'SIGINT' || interrupted) { interrupted = true; c.onFail?.(i); break; }
      const v = r.status === 0 ? measure(r.stdout, ms) : null;
      if (v !== null && Number.isFinite(v)) { if (i >= 0) c.values.push(v); continue; }
      if (c.failed++ === 0) console.error(`${c.name}: exit ${r.status ?? r.signal}${r.error ? ` (${r.error.message})` : ''}\n${(r.stderr || '').trim()}\n${(r.stdout || '').trim()}`);
      c.onFail?.(i);
    }
  }
}

async function main() {
  // the probe, static, in a directory containers get read-only
  const probeDir = path.join(tmp, 'probe');
  fs.mkdirSync(probeDir, { mode: 0o755 });
  const probe = path.join(probeDir, 'seccomp-probe');
  const compile = (c: string) => run(c, ['-static', '-O', '-o', probe, path.join(REPO, 'test/fixtures/seccomp-probe.c'), '-lpthread']);
  let cc = compile('cc');
  if (cc.error) cc = compile('gcc'); // no cc (alternatives) but gcc
  const haveProbe = cc.status === 0;
  if (!haveProbe) skipped.push({ name: 'per-syscall', reason: `cannot build the static probe (cc -static): ${cc.stderr.trim() || cc.error}` });

  const loop = ['getppid-loop', String(CALLS), '20']; // the fastest of 20 batches: load on the machine only adds time
  const syscallCases: Case[] = [];
  const UNCONFINED = ['--security-opt', 'seccomp=unconfined'];
  if (haveProbe) {
    const vol = ['-v', `${probeDir}:/probe:ro`];
    syscallCases.push(mk({ name: 'host (no filter)', cmd: probe, args: () => loop }));
    syscallCases.push(mk({ name: 'box default', cmd: BOX, env: boxEnv, args: () => ['run', '--rm', ...vol, 'busybox', '/probe/seccomp-probe', ...loop] }));
    // the floor of any filter at all: one that allows everything (the kernel's own per-call cost of seccomp)
    const allowAll = path.join(tmp, 'allow-all.json');
    fs.writeFileSync(allowAll, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW' }));
    syscallCases.push(mk({ name: 'box allow-all filter', cmd: BOX, env: boxEnv, args: () => ['run', '--rm', ...vol, '--security-opt', `seccomp=${allowAll}`, 'busybox', '/probe/seccomp-probe', ...loop] }));
    syscallCases.push(mk({ name: 'box unconfined', cmd: BOX, env: boxEnv, args: () => ['run', '--rm', ...vol, ...UNCONFINED, 'busybox', '/probe/seccomp-probe', ...loop] }));
  }

  // runc on a bundle of the same busybox rootfs, with Docker's capabilities and, in one case, its profile
  let runcFrom = '';
  if (haveProbe && !onPath('runc')) skipped.push({ name: 'runc', reason: 'runc not on PATH (apt-get install runc)' });
  else if (haveProbe) {
    const bundle = path.join(tmp, 'bundle');
    const rootfs = path.join(bundle, 'rootfs');
    fs.mkdirSync(rootfs, { recursive: true });
    const tar = run('tar', ['-xzf', path.join(REPO, 'images/busybox.tar.gz'), '-C', rootfs]);
    const spec = tar.status === 0 ? run('runc', ['spec', '--bundle', bundle]) : tar;
    if (spec.status !== 0) skipped.push({ name: 'runc', reason: `bundle set-up failed: ${spec.stderr.trim()}` });
    else {
      const base = JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8'));
      base.process.terminal = false;
      base.process.noNewPrivileges = false; // as Docker by default
      base.process.args = ['/probe/seccomp-probe', ...loop];
      base.process.capabilities = { bounding: DOCKER_CAPS, effective: DOCKER_CAPS, permitted: DOCKER_CAPS };
      base.root = { path: rootfs, readonly: true };
      base.mounts.push({ destination: '/probe', type: 'bind', source: probeDir, options: ['rbind', 'ro'] });
      const { seccomp, from } = runcSeccomp();
      runcFrom = from;
      const variants: [string, any][] = [['runc unconfined', null]];
      if (seccomp) variants.unshift(['runc docker profile', seccomp]);
      else skipped.push({ name: 'runc docker profile', reason: from });
      for (const [name, sc] of variants) {
        const cfgDir = path.join(tmp, name.replace(/\W+/g, '-'));
        fs.mkdirSync(cfgDir);
        const id = (i: number) => `box-bench-sc-${process.pid}-${cfgDir.length}-${i}`;
        syscallCases.push(mk({ name, cmd: 'runc',
          args(i) {
            const config = { ...base, linux: { ...base.linux, cgroupsPath: `/${CG_PARENT}/runc-${process.pid}-sc-${name.length}-${i}` } };
            if (sc) config.linux.seccomp = sc; else delete config.linux.seccomp;
            fs.writeFileSync(path.join(cfgDir, 'config.json'), JSON.stringify(config));
            runcIds.add(id(i));
            return ['--root', runcRoot, 'run', '--bundle', cfgDir, id(i)];
          },
          onFail: (i) => { run('runc', ['--root', runcRoot, 'delete', '-f', id(i)]); },
        }));
      }
    }
  }

  // per-syscall rounds, then start-up rounds
  await rounds(syscallCases, LOOPS, (out) => { const v = parseFloat(out.trim().split('\n').pop() ?? ''); return Number.isFinite(v) ? v : null; });
  const startCases = [
    mk({ name: 'box run default', cmd: BOX, env: boxEnv, args: () => ['run', '--rm', 'busybox', 'true'] }),
    mk({ name: 'box run unconfined', cmd: BOX, env: boxEnv, args: () => ['run', '--rm', ...UNCONFINED, 'busybox', 'true'] }),
  ];
  if (!interrupted) await rounds(startCases, RUNS, (_out, ms) => ms);

  const quantile = (xs: number[], q: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]; };
  const stats = (c: Case) => ({ name: c.name, runs: c.values.length, failed: c.failed,
    median: c.values.length ? quantile(c.values, 0.5) : null, p90: c.values.length ? quantile(c.values, 0.9) : null, min: c.values.length ? Math.min(...c.values) : null });
  const sys = syscallCases.map(stats), start = startCases.map(stats);
  const med = (rows: ReturnType<typeof stats>[], name: string) => rows.find((r) => r.name === name)?.median ?? null;
  const diff = (a: number | null, b: number | null) => (a !== null && b !== null ? a - b : null);
  // each filtered case against its own unfiltered one
  const baseOf: Record<string, string> = { 'box default': 'box unconfined', 'box allow-all filter': 'box unconfined', 'runc docker profile': 'runc unconfined', 'box run default': 'box run unconfined' };
  const min = (rows: ReturnType<typeof stats>[], name: string) => rows.find((r) => r.name === name)?.min ?? null;
  // medians, and minimums (the machine's noise only adds time: the minimums are the steadier estimate)
  const overhead = {
    boxNsPerCall: diff(med(sys, 'box default'), med(sys, 'box unconfined')),
    runcNsPerCall: diff(med(sys, 'runc docker profile'), med(sys, 'runc unconfined')),
    boxNsPerCallByMin: diff(min(sys, 'box default'), min(sys, 'box unconfined')),
    runcNsPerCallByMin: diff(min(sys, 'runc docker profile'), min(sys, 'runc unconfined')),
    boxStartMs: diff(med(start, 'box run default'), med(start, 'box run unconfined')),
  };

  if (JSON_OUT) console.log(JSON.stringify({ calls: CALLS, loops: LOOPS, runs: RUNS, interrupted, runcProfile: runcFrom, perSyscall: sys, startup: start, overhead, skipped }, null, 2));
  else {
    const f = (x: number | null, d = 1) => (x === null ? '-' : x.toFixed(d));
    const signed = (x: number | null, d = 1) => (x === null ? '-' : (x >= 0 ? '+' : '') + x.toFixed(d));
    console.log(`\nper-syscall cost: ${CALLS} getppid calls, ${LOOPS} interleaved rounds, ${os.cpus().length} CPUs, ${os.release()}`);
    if (runcFrom) console.log(`runc's profile: ${runcFrom}`);
    console.log(`${'name'.padEnd(22)}${'median ns'.padStart(11)}${'p90 ns'.padStart(9)}${'min ns'.padStart(9)}${'filter ns'.padStart(11)}${'failed'.padStart(8)}`);
    for (const r of sys) console.log(`${r.name.padEnd(22)}${f(r.median).padStart(11)}${f(r.p90).padStart(9)}${f(r.min).padStart(9)}${(baseOf[r.name] ? signed(diff(r.median, med(sys, baseOf[r.name]))) : '').padStart(11)}${String(r.failed).padStart(8)}`);
    console.log(`\nstart-up with the filter, ${RUNS} interleaved runs each`);
    console.log(`${'name'.padEnd(22)}${'median ms'.padStart(11)}${'p90 ms'.padStart(9)}${'min ms'.padStart(9)}${'filter ms'.padStart(11)}${'failed'.padStart(8)}`);
    for (const r of start) console.log(`${r.name.padEnd(22)}${f(r.median).padStart(11)}${f(r.p90).padStart(9)}${f(r.min).padStart(9)}${(baseOf[r.name] ? signed(diff(r.median, med(start, baseOf[r.name]))) : '').padStart(11)}${String(r.failed).padStart(8)}`);
    for (const s of skipped) console.log(`skipped ${s.name}: ${s.reason}`);
    console.log(`\nfilter overhead per call, medians: box ${signed(overhead.boxNsPerCall)} ns, runc (libseccomp) ${signed(overhead.runcNsPerCall)} ns; minimums: box ${signed(overhead.boxNsPerCallByMin)} ns, runc ${signed(overhead.runcNsPerCallByMin)} ns`);
    console.log(`filter start-up cost (box run, median): ${signed(overhead.boxStartMs)} ms`);
  }
  process.exitCode = interrupted ? 130 : [...syscallCases, ...startCases].some((c) => c.failed > 0) ? 1 : 0;
}

function cleanup() {
  if (fs.existsSync(runcRoot)) for (const id of fs.readdirSync(runcRoot)) if (runcIds.has(id)) run('runc', ['--root', runcRoot, 'delete', '-f', id]);
  removeRuncCgroups(`runc-${process.pid}-sc-`);
  removeTmp(tmp);
}

main().catch((e) => { console.error(e); process.exitCode = 1; }).finally(cleanup);
