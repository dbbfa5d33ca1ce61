// box update's rules (lib/container/update.ts mergeResources): what the container keeps,
// what replaces what, what must be written together, and Docker's refusals.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mergeResources } from '../../lib/container/update';

const M = 1024 * 1024;

test('unchanged limits are kept; only what changed is written', () => {
  const { merged, writes } = mergeResources({ memory: 64 * M, pidsLimit: 50 }, { pidsLimit: 20 });
  assert.equal(merged, { memory: 64 * M, pidsLimit: 20 });
  assert.equal(writes, { pidsLimit: 20 });
});

test('--cpus replaces --cpu-quota/--cpu-period and the other way round', () => {
  assert.equal(mergeResources({ cpuQuota: 50000, cpuPeriod: 100000 }, { nanoCpus: 5e8 }).merged, { nanoCpus: 5e8 });
  const q = mergeResources({ nanoCpus: 5e8, cpuPeriod: 200000 }, { cpuQuota: 30000 });
  assert.equal(q.merged, { cpuPeriod: 200000, cpuQuota: 30000 });
  assert.equal(q.writes, { cpuQuota: 30000, cpuPeriod: 200000 }); // the period the quota is relative to goes with it
});

test('memory and swap are written together; Docker\'s refusals', () => {
  assert.equal(mergeResources({ memory: 64 * M, memorySwap: 256 * M }, { memory: 128 * M }).writes, { memory: 128 * M, memorySwap: 256 * M });
  assert.throws(() => mergeResources({ memory: 64 * M, memorySwap: 128 * M }, { memory: 256 * M }), /smaller than already set memoryswap/);
  assert.throws(() => mergeResources({ memory: 64 * M }, { memory: 128 * M, memorySwap: 64 * M }), /Minimum memoryswap limit/);
  assert.throws(() => mergeResources({}, { memorySwap: 64 * M }), /always set the Memory limit/);
  assert.equal(mergeResources({ memory: 64 * M, memorySwap: -1 }, { memory: 1024 * M }).merged, { memory: 1024 * M, memorySwap: -1 });
});

test.run();
