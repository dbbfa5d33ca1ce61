// Capability names and numbers (linux/capability.h) and Docker's default set.
export const CAPS = [
  'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP',
  'LINUX_IMMUTABLE', 'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER',
  'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT', 'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE',
  'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE', 'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP',
  'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ', 'PERFMON', 'BPF',
  'CHECKPOINT_RESTORE',
];

/** Docker's default 14 (moby oci/caps/defaults.go). */
export const DEFAULT_CAPS = [
  'CHOWN', 'DAC_OVERRIDE', 'FSETID', 'FOWNER', 'MKNOD', 'NET_RAW', 'SETGID', 'SETUID', 'SETFCAP',
  'SETPCAP', 'NET_BIND_SERVICE', 'SYS_CHROOT', 'KILL', 'AUDIT_WRITE',
];

export function capNumber(name: string): number {
  return CAPS.indexOf(name.replace(/^CAP_/, ''));
}

/** Docker's rule: start from the default set (or all with --privileged), add, then drop; "ALL" allowed. */
export function resolveCaps(add: string[], drop: string[], privileged: boolean): string[] {
  const norm = (c: string) => {
    const n = c.toUpperCase().replace(/^CAP_/, '');
    if (n !== 'ALL' && !CAPS.includes(n)) throw new Error(`unknown capability: "${c}"`);
    return n;
  };
  const adds = add.map(norm), drops = drop.map(norm);
  if (privileged) return [...CAPS];
  let set = new Set(DEFAULT_CAPS);
  if (adds.includes('ALL')) set = new Set(CAPS);
  for (const c of adds) if (c !== 'ALL') set.add(c);
  if (drops.includes('ALL')) set = new Set(adds.filter((c) => c !== 'ALL'));
  for (const c of drops) if (c !== 'ALL' && !adds.includes(c)) set.delete(c);
  return CAPS.filter((c) => set.has(c));
}
