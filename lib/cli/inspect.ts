// box inspect [-f TEMPLATE] CONTAINER...: the record in Docker's shape and key names, or a Go template over it.
import { parseCommand } from '../options/flags';
import { BoxError } from '../libc/errors';
import { get, isRunning, ContainerState } from '../container/query';
import { cpuQuota } from '../cgroup/v1';
import { securityOptStrings } from '../options/security';
import { Template } from './template';
import { parseFormat, inspectOne, PARSE_STATUS } from './format';
import { runExtraHostConfig, mountsOf } from './inspect-extra';

export function toDocker(s: ContainerState) {
  const r = s.spec.resources;
  const q = cpuQuota({ cpuPeriod: r.cpuPeriod, cpuQuota: r.cpuQuota });
  const running = isRunning(s);
  const status = running ? (s.paused ? 'paused' : 'running') : s.status === 'running' ? 'exited' : s.status; // a dead owner's "running" is over
  return {
    Id: s.id,
    Created: s.created,
    Path: s.spec.command[0],
    Args: s.spec.command.slice(1),
    State: {
      Status: status, Running: running || status === 'restarting', Paused: running && !!s.paused, Restarting: status === 'restarting', OOMKilled: !!s.oomKilled, Dead: status === 'dead',
      Pid: running ? s.pid : 0, ExitCode: s.exitCode ?? 0,
      StartedAt: s.startedAt ?? '0001-01-01T00:00:00Z', FinishedAt: s.finishedAt ?? '0001-01-01T00:00:00Z',
    },
    Image: s.image,
    Name: `/${s.name}`,
    RestartCount: s.restartCount ?? 0,
    HostConfig: {
      Memory: r.memory ?? 0, MemorySwap: r.memorySwap ?? 0, MemoryReservation: r.memoryReservation ?? 0,
      NanoCpus: r.nanoCpus ?? 0, CpuShares: r.cpuShares ?? 0, CpuPeriod: q?.period ?? 0, CpuQuota: q?.quota ?? 0,
      CpusetCpus: r.cpusetCpus ?? '', CpusetMems: r.cpusetMems ?? '', PidsLimit: r.pidsLimit ?? null,
      RestartPolicy: { Name: s.spec.restart?.name ?? 'no', MaximumRetryCount: s.spec.restart?.maximumRetryCount ?? 0 },
      Privileged: s.spec.privileged, ReadonlyRootfs: s.spec.readOnly, AutoRemove: s.spec.rm, Init: s.spec.init,
      CapAdd: null, CapDrop: null, Binds: s.spec.volumes.filter((v) => !v.anonymous).map((v) => `${v.name ?? v.source}:${v.target}${v.readonly ? ':ro' : ''}`),
      Tmpfs: Object.fromEntries(s.spec.tmpfs.map((t) => [t.target, t.options])),
      ExtraHosts: s.spec.extraHosts?.map((h) => `${h.host}:${h.ip}`) ?? null, Dns: s.spec.dns ?? [], DnsSearch: s.spec.dnsSearch ?? [], DnsOptions: s.spec.dnsOptions ?? [], Sysctls: s.spec.sysctls ?? null, GroupAdd: s.spec.groupAdd ?? null,
      // containers from before seccomp support ran without a filter
      SecurityOpt: securityOptStrings({ seccomp: s.spec.seccomp ?? 'unconfined', noNewPrivileges: !!s.spec.noNewPrivileges }),
      ...runExtraHostConfig(s.spec),
    },
    Config: {
      Hostname: s.spec.hostname, Env: s.spec.env, Cmd: s.spec.command, WorkingDir: s.spec.workdir, Image: s.image,
      User: s.spec.user.uid === 0 && s.spec.user.gid === 0 ? '' : `${s.spec.user.uid}:${s.spec.user.gid}`,
      Tty: s.spec.tty, OpenStdin: s.spec.stdin, StopSignal: s.spec.stopSignal, StopTimeout: s.spec.stopTimeout,
      Labels: s.spec.labels ?? {},
    },
    Mounts: mountsOf(s.spec),
    Capabilities: s.spec.capabilities,
    Seccomp: s.seccomp ? { Sha256: s.seccomp.sha256, Instructions: Buffer.from(s.seccomp.program, 'base64').length / 8 } : null,
    Cgroups: s.cgroups,
    GraphDriver: { Name: s.rootfs?.copy ? 'copy' : 'overlay', Data: { LowerDir: s.rootfs?.lower.join(':'), UpperDir: s.rootfs?.upper, WorkDir: s.rootfs?.work } },
  };
}

export function inspect(args: string[]): number {
  const { values: v, positionals } = parseCommand('inspect', args, { format: { type: 'string', short: 'f' } }, true);
  if (!positionals.length) throw new BoxError('box inspect: requires at least 1 argument');
  const compact = v.format === 'json'; // Docker's "json": the same array, unindented
  if (compact) v.format = undefined;
  let tmpl: Template | undefined;
  if (v.format) {
    try { tmpl = parseFormat('inspect', v.format, PARSE_STATUS); } catch (e: any) { process.stderr.write(`${e.message}\n`); return e.status; }
  }
  const out: object[] = [];
  let text = '';
  let status = 0;
  for (const ref of positionals) {
    try {
      const d = toDocker(get(ref));
      if (tmpl) text += inspectOne('inspect', tmpl, asGo(d), d) + '\n';
      else out.push(d);
    } catch (e: any) { process.stderr.write(`${e.message}\n`); status = 1; }
  }
  // with a template, one line per container (Docker prints an empty line when none came out)
  process.stdout.write(tmpl ? text || '\n' : JSON.stringify(out, null, compact ? undefined : 4) + '\n');
  return status;
}

/** The record as Go holds it for a template: maps where Docker has maps (a missing key is <no value>), structs elsewhere. */
function asGo(d: ReturnType<typeof toDocker>) {
  return {
    ...d,
    HostConfig: { ...d.HostConfig, Tmpfs: new Map(Object.entries(d.HostConfig.Tmpfs)), LogConfig: { ...d.HostConfig.LogConfig, Config: new Map(Object.entries(d.HostConfig.LogConfig.Config)) } },
    Config: { ...d.Config, Labels: new Map(Object.entries(d.Config.Labels)) },
    GraphDriver: { ...d.GraphDriver, Data: new Map(Object.entries(d.GraphDriver.Data).filter(([, x]) => x !== undefined)) },
  };
}
