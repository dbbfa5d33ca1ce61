// A flag that takes a value takes the next argument even when it starts with '-' (Docker's
// pflag does): `--memory-swap -1`, `--pids-limit -1`, `--cpu-quota -1`, `-m -1`; --cpus 0 is no limit.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseRun } from '../../lib/options/run';
import { joinValues } from '../../lib/options/flags';

test('-1 as a separate argument is the value of the flag before it', () => {
  const sep = parseRun(['--memory', '64m', '--memory-swap', '-1', '--pids-limit', '-1', '--cpu-quota', '-1', 'busybox', 'true']);
  const eq = parseRun(['--memory', '64m', '--memory-swap=-1', '--pids-limit=-1', '--cpu-quota=-1', 'busybox', 'true']);
  assert.equal(sep.spec.resources, eq.spec.resources);
  assert.equal(sep.spec.command, ['true']);
});

test('short flags and clusters: -m -1 is -m-1; a boolean cluster followed by an option is left alone', () => {
  const opts = { memory: { type: 'string', short: 'm' }, interactive: { type: 'boolean', short: 'i' }, tty: { type: 'boolean', short: 't' }, env: { type: 'string', short: 'e' } } as const;
  assert.equal(joinValues(['-m', '-1', 'busybox'], opts), ['-m-1', 'busybox']);
  assert.equal(joinValues(['-ite', '-X', 'busybox'], opts), ['-ite-X', 'busybox']);
  assert.equal(joinValues(['-it', '-m', '1g'], opts), ['-it', '-m', '1g']);
  assert.equal(joinValues(['--memory', '-1', '--', '--memory', '-1'], opts), ['--memory=-1', '--', '--memory', '-1']);
  assert.equal(joinValues(['--tty', '-i'], opts), ['--tty', '-i']);
});

test('--cpus 0 means no CPU limit, as in Docker', () => {
  const r = parseRun(['--cpus', '0', 'busybox']);
  assert.is((r.spec.resources as any).nanoCpus, undefined);
});

test.run();
