// box image prune [-a] [-f]   box system prune [-f]: Docker's. Image prune removes dangling
// images (no tag; -a: every image no container uses), then the blobs, layers, cached rootfs
// tarballs and stale temp files nothing references (lib/image/gc.ts). System prune is
// stopped containers + dangling images + that collection. Both ask first unless -f.
import { parseCommand, HelpRequested } from '../options/flags';
import { BoxError, UsageError } from '../libc/errors';
import { prune as pruneContainers } from '../container/remove';
import { pruneImages, PruneResult } from '../image/gc';
import { diskUsage } from '../util/du';
import { humanSize } from './format';
import { CONTAINERS } from '../state/paths';
import { confirm } from './confirm';

function printImages(r: PruneResult) {
  if (!r.images.length) return;
  let out = 'Deleted Images:\n';
  for (const img of r.images) out += img.repoTags.map((t) => `Untagged: ${t}\n`).join('') + `Deleted: ${img.id}\n`;
  process.stdout.write(out + '\n');
}

export function imagePrune(args: string[]): number {
  const { values: v, positionals } = parseCommand('image prune', args, { all: { type: 'boolean', short: 'a' }, force: { type: 'boolean', short: 'f' } }, true);
  if (positionals.length) throw new UsageError(`box image prune: accepts no arguments (got "${positionals[0]}")`);
  const what = v.all ? 'all images without at least one container associated to them' : 'all dangling images';
  if (!v.force && !confirm(`WARNING! This will remove ${what}.\nAre you sure you want to continue? [y/N] `)) return 0;
  const r = pruneImages({ all: !!v.all });
  printImages(r);
  process.stdout.write(`Total reclaimed space: ${humanSize(r.reclaimed, 4)}\n`);
  return 0;
}

export function systemPrune(args: string[]): number {
  const { values: v, positionals } = parseCommand('system prune', args, { force: { type: 'boolean', short: 'f' } }, true);
  if (positionals.length) throw new UsageError(`box system prune: accepts no arguments (got "${positionals[0]}")`);
  if (!v.force && !confirm('WARNING! This will remove:\n  - all stopped containers\n  - all dangling images\n  - all blobs, layers and cached rootfs tarballs no image or container uses\n\nAre you sure you want to continue? [y/N] ')) return 0;
  const before = diskUsage(CONTAINERS);
  const gone = pruneContainers();
  const containerBytes = Math.max(0, before - diskUsage(CONTAINERS));
  if (gone.length) process.stdout.write(`Deleted Containers:\n${gone.map((s) => s.id + '\n').join('')}\n`);
  const r = pruneImages();
  printImages(r);
  process.stdout.write(`Total reclaimed space: ${humanSize(containerBytes + r.reclaimed, 4)}\n`);
  return 0;
}

export function system(args: string[]): number {
  const [sub, ...rest] = args;
  if (sub === 'prune') return systemPrune(rest);
  if (sub === undefined || sub === '--help') throw new HelpRequested('system', {});
  throw new BoxError(`box system: unknown command "${sub ?? ''}" (prune)`);
}
