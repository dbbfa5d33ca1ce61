// Regenerates the syscall tables in lib/seccomp/syscalls.ts (the part between the
// "generated: begin" and "generated: end" lines) from libseccomp's src/syscalls.csv:
//
//   tsx scripts/seccomp-syscalls.ts path/to/syscalls.csv
//
// The CSV has one row per syscall name and, per architecture, a number or PNR ("pseudo
// syscall": the arch has no such call) and the kernel version that added it. Only the
// numbers are used. x32 numbers are kept without __X32_SYSCALL_BIT (syscalls.ts adds it
// when it parses), as libseccomp writes them. After regenerating, update the source line
// (commit, kernel version) at the top of syscalls.ts.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const COLUMNS: [arch: string, column: string][] = [
  ['SCMP_ARCH_X86_64', 'x86_64'],
  ['SCMP_ARCH_X86', 'x86'],
  ['SCMP_ARCH_X32', 'x32'],
  ['SCMP_ARCH_AARCH64', 'aarch64'],
  ['SCMP_ARCH_ARM', 'arm'],
];
const LINE = 100;
const SHARED_FROM = 424, SHARED_TO = 512; // x32's own calls start at 512

function main(): void {
  const csvPath = process.argv[2];
  if (!csvPath) throw new Error('usage: tsx scripts/seccomp-syscalls.ts path/to/syscalls.csv');
  const csvLines = readFileSync(csvPath, 'utf8').split('\n').filter((l) => l.trim() !== '');
  const header = csvLines[0].split(',');
  if (!header[0].startsWith('#syscall')) throw new Error(`${csvPath}: not libseccomp's syscalls.csv`);
  const rows = csvLines.slice(1).map((l) => l.split(','));

  const out: string[] = [];
  const version = header[0].replace(/^#syscall\s*\(?|\)$/g, '');   // "#syscall (v7.1.0-rc4 2026-05-19)"
  out.push(`// generated: begin (by scripts/seccomp-syscalls.ts; the CSV says: ${version})`);
  const tables = COLUMNS.map(([arch, column]) => {
    const at = header.indexOf(column);
    if (at < 0) throw new Error(`${csvPath}: no column ${column}`);
    const entries: [number, string][] = [];
    for (const row of rows) {
      const cell = row[at];
      if (cell === 'PNR') continue;
      const nr = Number(cell);
      if (!/^\d+$/.test(cell) || !Number.isSafeInteger(nr)) throw new Error(`${row[0]}: bad ${column} number ${cell}`);
      entries.push([nr, row[0]]);
    }
    entries.sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : 1));
    return { arch, entries };
  });
  // From 424 on, every architecture numbers its new calls alike (the kernel's one generic
  // table): written once, appended to each arch whose 424..511 entries are exactly these.
  const inShared = ([nr]: [number, string]) => nr >= SHARED_FROM && nr < SHARED_TO;
  const key = (e: [number, string][]) => e.filter(inShared).map(([nr, n]) => `${nr} ${n}`).join('\n');
  const shared = tables[0].entries.filter(inShared);
  out.push('function tableText(arch: SeccompArch): string {');
  out.push(`  const shared = \``);
  out.push(...lines(shared));
  out.push('`;');
  out.push('  switch (arch) {');
  for (const { arch, entries } of tables) {
    const same = key(entries) === key(shared);
    out.push(`    case '${arch}': return \``);
    out.push(...lines(same ? entries.filter((e) => !inShared(e)) : entries));
    out.push(same ? '` + shared;' : '`;');
  }
  out.push("    default: throw new Error(`seccomp: no syscall table for ${String(arch)}`);");
  out.push('  }');
  out.push('}');
  out.push('// generated: end');

  const target = join(__dirname, '..', 'lib', 'seccomp', 'syscalls.ts');
  const source = readFileSync(target, 'utf8');
  const begin = source.indexOf('// generated: begin');
  const endMark = '// generated: end\n';
  const end = source.indexOf(endMark);
  if (begin < 0 || end < begin) throw new Error(`${target}: no generated block`);
  writeFileSync(target, source.slice(0, begin) + out.join('\n') + '\n' + source.slice(end + endMark.length));
  for (const [arch, column] of COLUMNS) {
    const at = header.indexOf(column);
    console.log(`${arch}: ${rows.filter((r) => r[at] !== 'PNR').length} names`);
  }
}

/**
 * Lines of names in number order. Each line starts with the number of its first name and
 * each following name has the next number; a jump in the numbering starts a new line.
 */
function lines(entries: [number, string][]): string[] {
  const out: string[] = [];
  let line = '';
  let next = -1;
  for (const [nr, name] of entries) {
    if (nr !== next || line.length + 1 + name.length > LINE) {
      if (line) out.push(line);
      line = nr >= 0x10000 ? '0x' + nr.toString(16) : String(nr);
    }
    line += ' ' + name;
    next = nr + 1;
  }
  if (line) out.push(line);
  return out;
}

main();
