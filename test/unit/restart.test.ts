// The restart policy as data: --restart parsed and refused as Docker does, and moby's
// restartmanager decision and backoff (lib/supervisor/restart.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseRestart } from '../../lib/options/restart';
import { parseRun } from '../../lib/options/run';
import { checkRunRequest } from '../../lib/supervisor/run-request';
import { shouldRestart, nextBackoff, BACKOFF_FIRST_MS, BACKOFF_MAX_MS } from '../../lib/supervisor/restart';

const host = { ncpu: 2, cpus: [0, 1], mems: [0] };

test('--restart values', () => {
  assert.is(parseRestart(undefined, false), undefined);
  assert.equal(parseRestart('no', true), { name: 'no', maximumRetryCount: 0 });
  assert.equal(parseRestart('always', false), { name: 'always', maximumRetryCount: 0 });
  assert.equal(parseRestart('unless-stopped', false), { name: 'unless-stopped', maximumRetryCount: 0 });
  assert.equal(parseRestart('on-failure', false), { name: 'on-failure', maximumRetryCount: 0 });
  assert.equal(parseRestart('on-failure:5', false), { name: 'on-failure', maximumRetryCount: 5 });
  assert.equal(parseRestart('always:0', false), { name: 'always', maximumRetryCount: 0 });
  assert.equal(parseRun(['--restart', 'on-failure:2', 'busybox'], {}, host).spec.restart, { name: 'on-failure', maximumRetryCount: 2 });
});

test('--restart refusals, with Docker\'s words', () => {
  const no = (v: string, rm: boolean, re: RegExp) => assert.throws(() => parseRestart(v, rm), re);
  no('always', true, /Conflicting options: --restart and --rm/);
  no('bogus', true, /Conflicting options: --restart and --rm/); // the CLI's check comes first
  no('bogus', false, /unknown policy 'bogus'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'/);
  no('always:1', false, /maximum retry count can only be used with 'on-failure'$/);
  no('no:-1', false, /only be used with 'on-failure' and cannot be negative/);
  no('on-failure:-1', false, /maximum retry count cannot be negative/);
  no('on-failure:x', false, /invalid restart policy format: maximum retry count must be an integer/);
  no('on-failure:1:2', false, /must be an integer/);
  assert.throws(() => parseRun(['--rm', '--restart', 'always', 'busybox'], {}, host), /Conflicting options/);
});

test('a pooled (attached) run request carries no restart policy', () => {
  const req = (restart?: string) => JSON.parse(JSON.stringify(parseRun([...(restart ? ['--restart', restart] : []), 'busybox', 'true'], {}, host)));
  assert.ok(checkRunRequest(req(), undefined));
  assert.ok(checkRunRequest(req('no'), undefined));
  assert.throws(() => checkRunRequest(req('always'), undefined), /invalid run request \(restart\)/);
  const bad = req('no');
  bad.spec.restart = { name: 'no', maximumRetryCount: 3 };
  assert.throws(() => checkRunRequest(bad, undefined), /restart/);
});

test('the decision: moby\'s ShouldRestart', () => {
  const p = (v: string) => parseRestart(v, false);
  const s = (o: object = {}) => ({ restartCount: 0, manuallyStopped: false, restartCancelled: false, ...o });
  assert.is(shouldRestart(undefined, 1, s()), false);
  assert.is(shouldRestart(p('no'), 1, s()), false);
  assert.is(shouldRestart(p('always'), 0, s()), true);
  assert.is(shouldRestart(p('always'), 0, s({ manuallyStopped: true })), true, 'always ignores a kill with another signal');
  assert.is(shouldRestart(p('always'), 0, s({ restartCancelled: true })), false);
  assert.is(shouldRestart(p('unless-stopped'), 0, s()), true);
  assert.is(shouldRestart(p('unless-stopped'), 0, s({ manuallyStopped: true })), false);
  assert.is(shouldRestart(p('on-failure'), 0, s()), false);
  assert.is(shouldRestart(p('on-failure'), 3, s({ restartCount: 1000 })), true, 'no maximum');
  assert.is(shouldRestart(p('on-failure:2'), 3, s({ restartCount: 1 })), true);
  assert.is(shouldRestart(p('on-failure:2'), 3, s({ restartCount: 2 })), false);
  assert.is(shouldRestart(p('on-failure:2'), 137, s({ restartCancelled: true })), false);
});

test('backoff: 100 ms doubling to 1 min, back to 100 ms after 10 s of running', () => {
  let d = 0;
  const seen: number[] = [];
  for (let i = 0; i < 12; i++) { d = nextBackoff(d, 50); seen.push(d); }
  assert.equal(seen.slice(0, 4), [100, 200, 400, 800]);
  assert.is(seen[seen.length - 1], BACKOFF_MAX_MS);
  assert.ok(seen.every((x) => x <= BACKOFF_MAX_MS));
  assert.is(nextBackoff(BACKOFF_MAX_MS, 10000), BACKOFF_FIRST_MS);
  assert.is(nextBackoff(800, 9999), 1600);
});

test.run();
