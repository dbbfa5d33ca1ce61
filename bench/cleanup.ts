// What the benches share for leaving the machine as they found it: runc's cgroups under our own
// parent (/box-bench in every hierarchy, removed only if this run made it), and the temp dir,
// never removed through a mount a container left behind.
import * as fs from 'node:fs';
import * as path from 'node:path';

export const CG_PARENT = 'box-bench';

// Every cgroup mount (v1 hierarchies and v2), from mountinfo: "... mountpoint ... - fstype ...".
const cgroupMounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter(Boolean).flatMap((line) => {
  const [pre, post] = line.split(' - ');
  const fstype = post?.split(' ')[0];
  const mnt = pre.split(' ')[4].replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
  return fstype === 'cgroup' || fstype === 'cgroup2' ? [mnt] : [];
});
// Which /box-bench dirs already existed when the bench started, so cleanup removes only what it made.
const preexisting = new Set(cgroupMounts.filter((m) => fs.existsSync(path.join(m, CG_PARENT))));

const rmdir = (d: string) => { try { fs.rmdirSync(d); } catch (e) { console.error(`warning: could not remove ${d}: ${(e as Error).message}`); } };

/** Remove the cgroup dirs runc made under /box-bench whose names start with `prefix`, then /box-bench if we made it. */
export function removeRuncCgroups(prefix: string) {
  for (const m of cgroupMounts) {
    const parent = path.join(m, CG_PARENT);
    if (!fs.existsSync(parent)) continue;
    for (const d of fs.readdirSync(parent)) if (d.startsWith(prefix)) rmdir(path.join(parent, d));
    if (!preexisting.has(m)) rmdir(parent);
  }
}

/** rm -rf the temp dir, unless something is still mounted under it: then warn and keep it. */
export function removeTmp(tmp: string) {
  const mounted = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]).filter((m) => m?.startsWith(tmp + '/'));
  if (mounted.length) console.error(`warning: left ${tmp} in place, still mounted: ${mounted.join(' ')}`);
  else fs.rmSync(tmp, { recursive: true, force: true });
}
