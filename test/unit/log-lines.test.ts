// lib/supervisor/log-lines.ts: json-file records are lines, as Docker writes them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LineRecords, MAX_RECORD } from '../../lib/supervisor/log-lines';

test('four lines written at once are four records; a line split across reads is one', () => {
  const l = new LineRecords();
  assert.equal(l.push(Buffer.from('a\nb\nc\nd\n')), ['a\n', 'b\n', 'c\n', 'd\n']);
  assert.equal(l.push(Buffer.from('hal')), []);
  assert.equal(l.push(Buffer.from('f\nx')), ['half\n']);
  assert.equal(l.end(), ['x']);
  assert.equal(l.end(), []);
});

test('a UTF-8 character split between two reads stays one character', () => {
  const l = new LineRecords();
  const euro = Buffer.from('€\n'); // e2 82 ac 0a
  assert.equal(l.push(euro.subarray(0, 1)), []);
  assert.equal(l.push(euro.subarray(1)), ['€\n']);
  assert.equal(l.end(), []);
});

test('a line longer than 16 KiB is cut into records of 16 KiB', () => {
  const l = new LineRecords();
  const long = 'x'.repeat(MAX_RECORD * 2 + 5);
  assert.equal(l.push(Buffer.from(long + '\nnext')), ['x'.repeat(MAX_RECORD), 'x'.repeat(MAX_RECORD), 'xxxxx\n']);
  assert.equal(l.push(Buffer.from('y'.repeat(MAX_RECORD))), ['next' + 'y'.repeat(MAX_RECORD - 4)]);
  assert.equal(l.end(), ['yyyy']);
});

test('an incomplete character at the end of the stream becomes U+FFFD once', () => {
  const l = new LineRecords();
  assert.equal(l.push(Buffer.from([0x61, 0xe2, 0x82])), []);
  assert.equal(l.end(), ['a\ufffd']);
});

test.run();
