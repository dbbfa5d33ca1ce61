// The pure parts of cp, ps --filter and logs --since/--until: Docker's argument forms.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { splitArg } from '../../lib/cli/cp';
import { parseFilters, matches } from '../../lib/cli/ps-filter';
import { parseDuration, parseTimestamp, recordTime } from '../../lib/cli/timestamp';

test('cp arguments: container:path, local paths starting with / or ., and -', () => {
  assert.equal(splitArg('c:/etc'), { container: 'c', path: '/etc' });
  assert.equal(splitArg('c:'), { container: 'c', path: '' });
  assert.equal(splitArg('./a:b'), { path: './a:b' });
  assert.equal(splitArg('/x:y'), { path: '/x:y' });
  assert.equal(splitArg('-'), { path: '-' });
  assert.equal(splitArg('plain'), { path: 'plain' });
});

test('durations and timestamps as Docker reads them', () => {
  assert.is(parseDuration('1h30m'), 5400e9);
  assert.is(parseDuration('1.5h'), 5400e9);
  assert.is(parseDuration('300ms'), 300e6);
  assert.is(parseDuration('10'), undefined);
  const now = Date.parse('2024-01-01T00:00:00Z');
  assert.is(parseTimestamp('10m', now), BigInt(now - 600000) * 1_000_000n);
  assert.is(parseTimestamp('1700000000.5'), 1700000000500000000n);
  assert.is(parseTimestamp('1700000000'), 1700000000000000000n);
  assert.is(parseTimestamp('2024-01-02T03:04:05.123456789Z'), BigInt(Date.parse('2024-01-02T03:04:05Z')) * 1_000_000n + 123456789n);
  assert.is(parseTimestamp('2024-01-02T03:04:05+02:00'), BigInt(Date.parse('2024-01-02T01:04:05Z')) * 1_000_000n);
  assert.is(parseTimestamp('2024-01-02'), BigInt(new Date(2024, 0, 2).getTime()) * 1_000_000n); // no zone: local time
  assert.throws(() => parseTimestamp('yesterday'), /failed to parse/);
  assert.is(recordTime('2024-01-02T03:04:05.5Z'), BigInt(Date.parse('2024-01-02T03:04:05Z')) * 1_000_000n + 500000000n);
});

test('ps filters: parsing, OR within a key, AND across keys, labels all required', () => {
  assert.throws(() => parseFilters(['nope=1']), /invalid filter 'nope'/);
  assert.throws(() => parseFilters(['status=sleeping']), /invalid filter 'status=sleeping'/);
  assert.throws(() => parseFilters(['exited=x']), /invalid filter 'exited=x'/);
  assert.throws(() => parseFilters(['noequals']), /bad format of filter/);
  const s: any = { id: 'abcdef' + '0'.repeat(58), name: 'web-1', image: '/not/an/image', status: 'exited', exitCode: 2, spec: { labels: { tier: 'front', x: '' } } };
  const m = (...f: string[]) => matches(parseFilters(f), s, 'exited');
  assert.ok(m('status=running', 'status=exited'));
  assert.not.ok(m('status=exited', 'name=^db'));
  assert.ok(m('name=^web-\\d$'));
  assert.ok(m('name=^/web'));
  assert.ok(m('id=abcd'));
  assert.not.ok(m('id=bcd'));
  assert.ok(m('label=tier', 'label=tier=front'));
  assert.not.ok(m('label=tier', 'label=tier=back'));
  assert.ok(m('exited=2', 'exited=0'));
  assert.not.ok(m('exited=0'));
  assert.ok(m('ancestor=/not/an/image'));
});

test.run();
