// budget.ts: a container over its requests for the window is left out until the window ends; others are not.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Budget } from '../../lib/procview/budget';

test('each owner has its own count; a new window gives everyone their budget back', () => {
  let t = 1000;
  const b = new Budget(3, 100, () => t);
  for (let i = 0; i < 3; i++) { assert.ok(b.allows('a')); b.spend('a'); }
  assert.not.ok(b.allows('a'), 'a spent its 3');
  assert.ok(b.allows('b'), 'b is not held back by a');
  assert.is(b.msLeft(), 100);
  t += 60;
  assert.not.ok(b.allows('a'));
  assert.is(b.msLeft(), 40);
  t += 40;
  assert.ok(b.allows('a'), 'the window ended');
  assert.is(b.msLeft(), 100);
});

test('msLeft is never 0 (a timer of 0 ms would spin)', () => {
  let t = 0;
  const b = new Budget(1, 10, () => t);
  t = 9.9999;
  assert.ok(b.msLeft() >= 1);
});

test.run();
