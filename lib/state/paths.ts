// Where box keeps things. BOX_ROOT moves everything (tests use a temporary root).
import * as path from 'node:path';

export const ROOT = process.env.BOX_ROOT || '/var/lib/box';
/** Runtime files that die with the host (locks): /run/box, or beside a test's BOX_ROOT. */
export const RUN = process.env.BOX_ROOT ? path.join(ROOT, 'run') : '/run/box';
export const IMAGES = path.join(ROOT, 'images');
export const CONTAINERS = path.join(ROOT, 'containers');
export const NAMES = path.join(ROOT, 'names');
/** Networks (lib/net/store.ts): NETWORKS/<id>/network.json and NETWORKS/<id>/endpoints/<address>. */
export const NETWORKS = path.join(ROOT, 'networks');
export const containerDir = (id: string) => path.join(CONTAINERS, id);
/** The shared supervisor of detached containers (lib/supervisor/): its socket, its log, its anchors' records. */
export const SUPERVISOR_SOCKET = path.join(RUN, 'supervisor.sock');
export const SUPERVISOR_LOG = path.join(RUN, 'supervisor.log');
export const ANCHORS = path.join(RUN, 'anchors');
