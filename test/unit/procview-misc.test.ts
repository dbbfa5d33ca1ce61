// procview's /proc/uptime, /proc/loadavg and /proc/diskstats from real-format inputs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { uptime } from '../../lib/procview/uptime';
import { nextLoad, loadavg } from '../../lib/procview/loadavg';
import { diskstats, parseBlkio, parseIoStat } from '../../lib/procview/diskstats';

const fx = (f: string) => fs.readFileSync(path.join(__dirname, '../fixtures/procview', f), 'utf8');

test('uptime: since the init\'s start (ticks since boot); idle what its CPUs did not use; the host\'s outside a pid ns', () => {
  assert.is(uptime('1000.50 1800.00\n', 95000, 100, 2e9, 2), '50.50 99.00\n');
  assert.is(uptime('1000.50 1800.00\n', undefined, 100, 0, 2), '1000.50 1800.00\n');
  assert.is(uptime('10.00 1.00\n', 5000, 100, 0, 1), '0.00 0.00\n'); // never negative
});

test('loadavg: the first sample is the load; later ones decay toward the runnable count as calc_load does', () => {
  let l = nextLoad(undefined, 2, 100);
  assert.is(loadavg(l, 2, 5, 42), '2.00 2.00 2.00 2/5 42\n');
  l = nextLoad(l, 0, 160); // one minute idle
  assert.ok(Math.abs(l.one - 2 * Math.exp(-1)) < 1e-9);
  assert.ok(l.five > l.one && l.fifteen > l.five);
  const same = nextLoad(l, 1, 160); // no time passed: unchanged
  assert.is(same.one, l.one);
});

test('diskstats v1 (blkio throttle files) and v2 (io.stat): the container\'s I/O on the host\'s device names; untouched devices left out', () => {
  const host = fx('host-diskstats');
  for (const io of [parseBlkio(fx('v1-blkio.throttle.io_serviced_recursive'), fx('v1-blkio.throttle.io_service_bytes_recursive')), parseIoStat(fx('v2-io.stat'))]) {
    assert.equal(io.get('254:0'), { rios: 1200, wios: 300, rbytes: 4915200, wbytes: 1228800 });
    const lines = diskstats(host, io).trim().split('\n');
    assert.is(lines.length, 1);
    const f = lines[0].trim().split(/\s+/);
    assert.equal(f.slice(0, 3), ['254', '0', 'vda']);
    assert.equal(f.slice(3, 10).map(Number), [1200, 0, 9600, 0, 300, 0, 2400]);
    assert.is(f.length, host.split('\n')[0].trim().split(/\s+/).length); // as many columns as this kernel prints
  }
  assert.is(diskstats(host, new Map()), '');
});

test.run();
