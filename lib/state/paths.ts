// Where box keeps things. BOX_ROOT moves everything (tests use a temporary root).
import * as path from 'node:path';

export const ROOT = process.env.BOX_ROOT || '/var/lib/box';
export const IMAGES = path.join(ROOT, 'images');
export const CONTAINERS = path.join(ROOT, 'containers');
export const NAMES = path.join(ROOT, 'names');
export const containerDir = (id: string) => path.join(CONTAINERS, id);
