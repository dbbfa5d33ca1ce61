// `box VERB --help` for every verb, from lib/cli/help.ts over the verb's own option table:
// exit 0, the usage on stdout, nothing done; a --help that is an argument of the container's
// command or a flag's value is not a help request.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { box, stateEntries } from '../helpers/box';
import { VERBS } from '../../lib/cli/help';

test('every verb has --help: its usage line, what it does, and its flags', () => {
  const before = stateEntries().length;
  for (const verb of Object.keys(VERBS)) {
    const r = box([...verb.split(' '), '--help']);
    assert.is(r.status, 0, `${verb}: ${r.stderr}`);
    assert.is(r.stderr, '', verb);
    assert.ok(r.stdout.startsWith(`Usage:  box ${verb}`), `${verb}: ${r.stdout.split('\n')[0]}`);
    assert.ok(r.stdout.includes(VERBS[verb].about), verb);
    for (const flag of Object.keys(VERBS[verb].flags ?? {})) assert.match(r.stdout, new RegExp(`^  (-\\w, |    )--${flag}\\b`, 'm'), `${verb} --${flag}`);
  }
  assert.is(stateEntries().length, before, 'a --help did something');
});

test('the main usage names only verbs that have help', () => {
  const usage = box(['--help']).stdout;
  const verbs = [...usage.matchAll(/^ {2}([a-z]+) /gm)].map((m) => m[1]).filter((v) => v !== 'oci');
  assert.ok(verbs.length > 20, usage);
  for (const v of verbs) assert.ok(VERBS[v], `box ${v} has no --help`);
});

test('--help after the image, or as a flag\'s value, is not a help request', () => {
  assert.is(box(['run', '--rm', 'busybox', 'echo', '--help']).stdout, '--help\n');
  assert.is(box(['run', '--rm', '--hostname', '--help', 'busybox', 'true']).status, 125); // an invalid hostname, not help
});

test.run();
