// --init: Debian's static tini (images/init/) becomes the container's PID 1, as Docker's
// docker-init does: it forwards signals to the command, reaps orphans re-parented to it and
// exits with the command's status. It replaces the stage by execveat from a sealed memfd
// (lib/libc/exe.ts), after the same user and capability drop as a plain command: nothing of
// box stays inside the container (no Node threads with the host's namespaces, root or
// capabilities, no host environment, no host binary behind /proc/1/exe).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { embedded } from '../embedded';
import { libc } from '../libc/seam';

/** PID 1's argv[0], what the container sees in /proc/1/cmdline; no such file exists. */
export const INIT_ARGV0 = '/sbin/box-init';

let memfd: number | undefined;

/** tini for this machine: embedded in ./box (brotli, sha256 recorded at build), or images/init/ in development. */
function tiniBytes(): Buffer {
  const e = embedded();
  if (e) {
    // required here, not at the top: the stage loads this file on every run, --init or not
    const zlib: typeof import('node:zlib') = require('node:zlib');
    const crypto: typeof import('node:crypto') = require('node:crypto');
    const blob = e.init[process.arch];
    if (!blob) throw new Error(`--init: box has no init binary for ${process.arch}`);
    const bytes = zlib.brotliDecompressSync(Buffer.from(blob.data(), 'base64'));
    const got = crypto.createHash('sha256').update(bytes).digest('hex');
    if (got !== blob.sha256) throw new Error(`--init: the embedded init binary is corrupt (sha256 ${got})`);
    return bytes;
  }
  const deb = ({ x64: 'amd64', arm64: 'arm64' } as Record<string, string>)[process.arch];
  if (!deb) throw new Error(`--init: no init binary for ${process.arch} in images/init/`);
  return fs.readFileSync(path.join(__dirname, '..', '..', 'images', 'init', `tini-static-${deb}`));
}

/**
 * Load tini into its sealed memfd. Call it before pivot_root: the bytes come from ./box
 * (or images/), host paths the container's root no longer shows.
 */
export function loadInit() {
  memfd = libc.sealedExecutable('box-init', tiniBytes());
}

/** Replace the stage with tini, which execvp's the command with the container's env (PATH). */
export function execInit(command: string[], env: string[]): never {
  if (memfd === undefined) throw new Error('--init: the init binary was not loaded before pivot_root');
  return libc.execveatFd(memfd, [INIT_ARGV0, '--', ...command], env, 'box-init');
}
