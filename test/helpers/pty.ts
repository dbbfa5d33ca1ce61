// A real pseudo-terminal for driving `box run -it` from a test, made with box's own libc
// wrappers: open /dev/ptmx, unlock, open the slave and give it to box as its terminal.
import * as fs from 'node:fs';
import * as tty from 'node:tty';
import { spawn, ChildProcess } from 'node:child_process';
import * as libc from '../../lib/libc';
import { BOX, ENV } from './box';

/** busybox sh's prompt, then whatever escapes its line editor adds (a cursor query, a redraw after it went unanswered). */
export const PROMPT = /# (\x1b\[[0-9;]*[A-Za-z])*$/;

export interface Term { proc: ChildProcess; slave: string; master: number; output: () => string; write: (s: string) => void; waitFor: (re: RegExp, ms?: number) => Promise<string>; close: () => void }

export function runInPty(args: string[], rows = 24, cols = 80): Term {
  const master = fs.openSync('/dev/ptmx', fs.constants.O_RDWR | fs.constants.O_NOCTTY);
  const n = libc.unlockPty(master);
  libc.setWinsize(master, rows, cols);
  const slave = fs.openSync(`/dev/pts/${n}`, fs.constants.O_RDWR | fs.constants.O_NOCTTY);
  const proc = spawn(process.execPath, ['--', BOX, ...args], { stdio: [slave, slave, slave], env: ENV, detached: true });
  process.on('exit', () => { try { proc.kill('SIGKILL'); } catch { /* gone */ } });
  // The test keeps its own slave fd: the master then never sees EIO, stays open, and the
  // terminal's settings can still be read after box has exited.
  const stream = new tty.ReadStream(master);
  let out = '';
  stream.on('data', (d) => { out += d.toString(); });
  stream.on('error', () => {});
  // a test that failed before close() must not keep the whole suite's process alive
  stream.unref();
  return {
    proc,
    slave: `/dev/pts/${n}`,
    master,
    output: () => out,
    write: (s) => stream.write(s),
    async waitFor(re, ms = 10000) {
      const end = Date.now() + ms;
      while (!re.test(out)) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${re} in ${JSON.stringify(out)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      return out;
    },
    close: () => { stream.destroy(); fs.closeSync(slave); },
  };
}
