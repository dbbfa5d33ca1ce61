// The errno table: every number Linux defines has its name and a message, and SysError and
// Node's fs errors are worded from it (libuv's own table lacks ENOEXEC and 65 others).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import { ERRNO, errnoText, errnoNumber, nodeErrorText } from '../../lib/libc/errno';
import { SysError } from '../../lib/libc/errors';

test('every errno 1..133 Linux defines has a name and a message; 41 and 58 are unused', () => {
  for (let n = 1; n <= 133; n++) {
    if (n === 41 || n === 58) { assert.is(ERRNO.get(n), undefined); continue; }
    const [name, msg] = ERRNO.get(n) ?? ['', ''];
    assert.match(name, /^E[A-Z0-9]+$/, `errno ${n}`);
    assert.ok(msg.length > 3 && !/unknown/i.test(msg), `errno ${n}: ${msg}`);
    assert.is(errnoNumber(name), n);
  }
  assert.is(new Set([...ERRNO.values()].map(([name]) => name)).size, ERRNO.size);
});

test('the numbers agree with the kernel headers and the libc on this host', () => {
  assert.equal(ERRNO.get(8), ['ENOEXEC', 'exec format error']);
  assert.equal(ERRNO.get(34), ['ERANGE', 'result too large']);
  assert.equal(ERRNO.get(130), ['EOWNERDEAD', 'owner died']);
  assert.equal(ERRNO.get(133)?.[0], 'EHWPOISON');
  // Node's os.constants.errno comes from the libc's headers: every name it has must match
  const { errno } = require('node:os').constants as { errno: Record<string, number> };
  for (const [name, n] of Object.entries(errno)) {
    if (name === 'ENOTSUP' || name === 'EWOULDBLOCK' || name === 'EDEADLOCK') assert.is(errnoNumber(name), n);
    else assert.is(ERRNO.get(n)?.[0], name, `${name} = ${n}`);
  }
});

test('SysError: "call target: ENAME (message)" for errnos libuv does not know', () => {
  const e = new SysError('execve', 8, '/bin/x');
  assert.is(e.message, 'execve /bin/x: ENOEXEC (exec format error)');
  assert.is(e.code, 'ENOEXEC');
  assert.is(new SysError('mount', 1).message, 'mount: EPERM (operation not permitted)');
  assert.is(new SysError('f', 58).message, 'f: E58 (unknown error 58)');
});

test('a Node fs error in the same words', () => {
  let err: any;
  try { fs.readFileSync('/nonexistent/box-errno-test'); } catch (e) { err = e; }
  assert.is(nodeErrorText(err), 'open /nonexistent/box-errno-test: ENOENT (no such file or directory)');
  const range = Object.assign(new Error('ERANGE: result too large, write'), { code: 'ERANGE', syscall: 'write' });
  assert.is(nodeErrorText(range, 'write', '/sys/fs/cgroup/x/pids.max'), 'write /sys/fs/cgroup/x/pids.max: ERANGE (result too large)');
  assert.is(nodeErrorText(Object.assign(new Error('boom'), { code: 'ERR_SOMETHING' })), 'boom');
});

test.run();
