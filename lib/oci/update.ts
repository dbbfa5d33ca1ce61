// `update --resources FILE|-`: LinuxResources JSON (podman passes a file, docker stdin)
// written live through the cgroup manager — the same files and checks as at create.
import * as fs from 'node:fs';
import { cgroupManagerAt } from '../cgroup/manager';
import { OciStore, status } from './state';
import { ociResources } from './resources';
import { OciError } from './errors';

export function ociUpdate(store: OciStore, id: string, resourcesFile: string | undefined, warn: (w: string) => void) {
  const r = store.load(id);
  if (status(store, r) === 'stopped') throw new OciError(`container not running: ${id}`, 'state');
  if (!resourcesFile) throw new OciError('update: --resources FILE (or - for stdin) is required: box takes the OCI LinuxResources JSON');
  let json: any;
  try {
    json = JSON.parse(fs.readFileSync(resourcesFile === '-' ? 0 : resourcesFile, 'utf8'));
  } catch (e: any) {
    throw new OciError(`update --resources ${resourcesFile}: ${e.message}`);
  }
  const res = ociResources(json, 'update --resources');
  delete res.devices; // runc's update changes limits, not the device rules set at create
  const cg = cgroupManagerAt(r.cgroupPath, undefined, { keepParent: true });
  try {
    cg.update(res).warnings.forEach(warn);
  } catch (e: any) {
    throw new OciError(`update ${id}: ${e.message}`);
  }
}
