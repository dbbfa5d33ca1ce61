// box logs of a detached container: records are lines, as in Docker's json-file log, so
// --tail counts lines and -t stamps each one, whatever bursts the container wrote them in;
// a UTF-8 character split across two writes stays one character.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { box, until, removeAll } from '../helpers/box';

test('four lines in one write: --tail 2 shows the last two, -t stamps each line', async () => {
  try {
    const r = box(['run', '-d', '--name', 'logs-a', 'busybox', 'sh', '-c', 'printf "one\\ntwo\\nthree\\nfour\\n"; printf "\\342"; sleep 0.3; printf "\\202\\254 end\\n"; trap "exit 0" TERM; while :; do sleep 0.1; done']);
    assert.is(r.status, 0, r.stderr);
    await until(() => box(['logs', 'logs-a']).stdout.includes('end'), 10000, 'the last line in the log');
    assert.is(box(['logs', 'logs-a']).stdout, 'one\ntwo\nthree\nfour\n€ end\n');
    assert.is(box(['logs', '--tail', '2', 'logs-a']).stdout, 'four\n€ end\n');
    const stamped = box(['logs', '-t', 'logs-a']).stdout.split('\n').filter(Boolean);
    assert.is(stamped.length, 5);
    for (const [i, l] of stamped.entries()) assert.match(l, new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d+Z ${['one', 'two', 'three', 'four', '€ end'][i]}$`));
  } finally {
    removeAll('logs-a');
  }
});

test('a last line without a newline is logged when the container ends', async () => {
  try {
    const r = box(['run', '-d', '--name', 'logs-b', 'busybox', 'printf', 'no newline']);
    assert.is(r.status, 0, r.stderr);
    await until(() => JSON.parse(box(['inspect', 'logs-b']).stdout)[0].State.Status === 'exited', 10000, 'the container to exit');
    await until(() => box(['logs', 'logs-b']).stdout === 'no newline', 5000, 'the line in the log');
  } finally {
    removeAll('logs-b');
  }
});

test.run();
