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


test('a boolean flag takes Docker\'s =true/=false: --proc-view=false turns the view off, --rm=false is no --rm', () => {
  assert.is(parseRun(['busybox']).spec.procView, undefined);
  assert.is(parseRun(['--proc-view', 'busybox']).spec.procView, undefined);
  assert.is(parseRun(['--proc-view=false', 'busybox']).spec.procView, false);
  assert.is(parseRun(['--proc-view=true', 'busybox']).spec.procView, undefined);
  const r = parseRun(['--rm=false', '--init=true', 'busybox', 'echo', '--rm=true']);
  assert.is(r.spec.rm, false);
  assert.is(r.spec.init, true);
  assert.equal(r.spec.command, ['echo', '--rm=true']); // the container's arguments are not box's
  assert.throws(() => parseRun(['--proc-view=maybe', 'busybox']), /proc-view/);
  assert.is(parseRun(['--name=false', 'busybox']).spec.name, 'false'); // a string flag: "false" is its value
});

test.run();
