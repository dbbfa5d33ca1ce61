// The busybox image that ships inside box: embedded in the bundle, images/busybox.tar.gz
// in development. Extracted once per content hash into the image store.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as crypto from 'node:crypto';
import { embedded } from '../embedded';
import { DEFAULT_PATH } from '../util/defaults';

export const BUILTIN = 'busybox';

/** The builtin image's archive bytes and their sha256. */
export function builtinArchive(): { sha256: string; bytes: () => Buffer } {
  const blob = embedded()?.busybox;
  if (blob) return { sha256: blob.sha256, bytes: () => Buffer.from(blob.data(), 'base64') };
  const file = path.join(__dirname, '..', '..', 'images', 'busybox.tar.gz');
  const bytes = fs.readFileSync(file);
  return { sha256: crypto.createHash('sha256').update(bytes).digest('hex'), bytes: () => bytes };
}

export const BUILTIN_CONFIG = {
  Cmd: ['sh'],
  Env: [`PATH=${DEFAULT_PATH}`],
  WorkingDir: '',
  User: '',
};
