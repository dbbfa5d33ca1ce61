// box images [-q] [--no-trunc] [--format json|TEMPLATE]   box rmi [-f] IMAGE...   box image inspect|ls|rm|pull|import
import { parseCommand, HelpRequested } from '../options/flags';
import { BoxError } from '../libc/errors';
import { records, findImage, deleteImage, untag, ImageRecord } from '../image/store';
import { list } from '../container/query';
import { table } from '../util/table';
import { size } from './stats';
import { ago } from './ps';
import { TYPE } from './gofmt';
import { formatList, isCustom, goTime, humanSize } from './format';

const short = (r: ImageRecord) => r.id.slice(7, 19);
const split = (t: string) => { const i = t.lastIndexOf(':'); return [t.slice(0, i), t.slice(i + 1)]; };

/** Docker's column names for a "table" template (docker/cli formatter/image.go). */
const HEADER = {
  ID: 'IMAGE ID', Repository: 'REPOSITORY', Tag: 'TAG', Digest: 'DIGEST', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT',
  Size: 'SIZE', Containers: 'CONTAINERS', VirtualSize: 'SIZE', SharedSize: 'SHARED SIZE', UniqueSize: 'UNIQUE SIZE',
};

export function images(args: string[]): number {
  const { values: v } = parseCommand('images', args, { quiet: { type: 'boolean', short: 'q' }, format: { type: 'string' }, 'no-trunc': { type: 'boolean' } }, true);
  const all = records().sort((a, b) => b.created.localeCompare(a.created));
  if (v.quiet) { process.stdout.write([...new Set(all.map(short))].map((i) => i + '\n').join('')); return 0; }
  const tagged = all.flatMap((r) => (r.repoTags.length ? r.repoTags : ['<none>:<none>']).map((t) => [r, ...split(t)] as const));
  if (isCustom(v.format)) {
    // what `{{.Field}}` reads: Docker's imageContext, keys in its JSON order
    process.stdout.write(formatList('images', v.format, tagged.map(([r, Repository, Tag]) => ({
      [TYPE]: '*formatter.imageContext',
      Containers: 'N/A', CreatedAt: goTime(r.created), CreatedSince: `${ago(r.created)} ago`, Digest: '<none>',
      ID: v['no-trunc'] ? r.id : short(r), Repository, SharedSize: 'N/A', Size: humanSize(r.size), Tag, UniqueSize: 'N/A', VirtualSize: humanSize(r.size),
    })), HEADER));
    return 0;
  }
  const rows = tagged.map(([r, repo, tag]) => [repo, tag, short(r), v.format === 'json' ? r.created : `${ago(r.created)} ago`, v.format === 'json' ? size(r.size, true) : humanSize(r.size)]);
  if (v.format === 'json') {
    process.stdout.write(rows.map(([Repository, Tag, ID, CreatedAt, Size]) => JSON.stringify({ Repository, Tag, ID, CreatedAt, Size }) + '\n').join(''));
    return 0;
  }
  process.stdout.write(table([['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'], ...rows]));
  return 0;
}

export function rmi(args: string[]): number {
  const { values: v, positionals } = parseCommand('rmi', args, { force: { type: 'boolean', short: 'f' } }, true);
  if (!positionals.length) throw new BoxError('box rmi: requires at least 1 argument');
  let status = 0;
  for (const ref of positionals) {
    try {
      const img = findImage(ref);
      if (!img) throw new BoxError(`box: No such image: ${ref}`);
      const users = list({ all: true }).filter((c) => c.image === ref || img.repoTags.includes(c.image) || c.image === short(img));
      if (users.length && !v.force) throw new BoxError(`box: conflict: unable to remove image ${ref}: it is used by container ${users[0].id.slice(0, 12)} (box rm it first, or rmi -f)`);
      const tag = img.repoTags.find((t) => t === ref || t === `${ref}:latest`);
      if (tag && img.repoTags.length > 1) {
        untag(img, tag); // other tags keep the image
        process.stdout.write(`Untagged: ${tag}\n`);
        continue;
      }
      deleteImage(img);
      for (const t of img.repoTags) process.stdout.write(`Untagged: ${t}\n`);
      process.stdout.write(`Deleted: ${img.id}\n`);
    } catch (e: any) {
      process.stderr.write(`${e.message}\n`);
      status = 1;
    }
  }
  return status;
}

export function imageInspect(args: string[]): number {
  const { positionals } = parseCommand('image inspect', args, {}, true);
  if (!positionals.length) throw new BoxError('box image inspect: requires at least 1 argument');
  const out: object[] = [];
  let status = 0;
  for (const ref of positionals) {
    const r = findImage(ref);
    if (!r) { process.stderr.write(`box: No such image: ${ref}\n`); status = 1; continue; }
    out.push({
      Id: r.id, RepoTags: r.repoTags, Created: r.created, Architecture: r.config.architecture, Os: r.config.os,
      Config: r.config.config ?? {}, RootFS: { Type: 'layers', Layers: r.layers }, Size: r.size,
    });
  }
  process.stdout.write(JSON.stringify(out, null, 4) + '\n');
  return status;
}

export async function image(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case undefined: case '--help': throw new HelpRequested('image', {});
    case 'inspect': return imageInspect(rest);
    case 'ls': case 'list': return images(rest);
    case 'rm': return rmi(rest);
    case 'pull': return require('./pull').pull(rest);
    case 'import': return require('./pull').importCmd(rest);
    case 'prune': return require('./system').imagePrune(rest);
    default: throw new BoxError(`box image: unknown command "${sub ?? ''}" (inspect, ls, rm, pull, import, prune)`);
  }
}
