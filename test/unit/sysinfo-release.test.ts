// SysinfoHandler's release (lib/procview/sysinfo-handler.ts), without root: eventfds stand for
// listeners (poll never finds them readable or hung up). A release closes its listener once the
// outstanding poll is back, and is bound to that listener, not to its fd number: a late release
// after the number was reused must not stop another container's listener.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import { eventFd } from '../../lib/libc/seccomp-notify';
import { SysinfoHandler } from '../../lib/procview/sysinfo-handler';

const isOpen = (fd: number) => { try { fs.fstatSync(fd); return true; } catch { return false; } };
const tick = () => new Promise((r) => setTimeout(r, 20));

test('release: closed after the poll returns; twice is harmless; a stale release leaves the number\'s next listener alone', async () => {
  const h = new SysinfoHandler();
  const a = eventFd();
  const releaseA = h.add(a);
  assert.is(h.size, 1);
  releaseA();
  assert.is(h.size, 0);
  for (let i = 0; i < 100 && isOpen(a); i++) await tick();
  assert.not.ok(isOpen(a), 'closed once the poll returned');
  releaseA();
  const b = eventFd(); // the lowest free number: usually a's
  const releaseB = h.add(b);
  releaseA();
  assert.is(h.size, 1, `a's stale release (fd ${a}) did not drop b (fd ${b})`);
  assert.ok(isOpen(b));
  releaseB();
  await h.close();
  assert.not.ok(isOpen(b));
});

test('close(): every listener closed; a release afterwards does nothing', async () => {
  const h = new SysinfoHandler();
  const fds = [eventFd(), eventFd()];
  const releases = fds.map((fd) => h.add(fd));
  await h.close();
  assert.ok(fds.every((fd) => !isOpen(fd)));
  const other = eventFd(); // may reuse a number
  releases.forEach((r) => r());
  assert.ok(isOpen(other), 'not closed by a release of the closed handler');
  fs.closeSync(other);
});

test.run();
