import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseReference, familiarName } from '../../lib/image/reference';
import { normalizeTag } from '../../lib/image/store';
import { unsafeEntry } from '../../lib/image/extract';

test('references as Docker reads them', () => {
  assert.equal(parseReference('busybox'), { registry: 'docker.io', repository: 'library/busybox', tag: 'latest', digest: undefined, insecure: false });
  assert.equal(parseReference('alpine:3.20').tag, '3.20');
  assert.equal(parseReference('me/app').repository, 'me/app');
  const local = parseReference('127.0.0.1:5000/test/multi:v1');
  assert.equal([local.registry, local.repository, local.tag, local.insecure], ['127.0.0.1:5000', 'test/multi', 'v1', true]);
  assert.is(parseReference('localhost/x').insecure, true);
  assert.is(parseReference('quay.io/a/b').insecure, false);
  assert.is(parseReference('quay.io/a/b', true).insecure, true);
  const d = 'sha256:' + 'a'.repeat(64);
  assert.equal([parseReference(`x@${d}`).digest, parseReference(`x@${d}`).tag], [d, undefined]);
  assert.throws(() => parseReference('Upper/Case'), /must be lowercase/);
  assert.throws(() => parseReference('x@sha256:short'), /invalid reference format: digest/);
  assert.is(familiarName(parseReference('busybox')), 'busybox:latest');
  assert.is(familiarName(parseReference('127.0.0.1:5000/t/m:v1')), '127.0.0.1:5000/t/m:v1');
  assert.is(normalizeTag('docker.io/library/busybox'), 'busybox:latest');
  assert.is(normalizeTag('host:5000/name'), 'host:5000/name:latest');
});

test('layer entries that would leave the layer', () => {
  const none = new Set<string>();
  assert.is(unsafeEntry('./bin/sh', 'SymbolicLink', '/bin/busybox', none), undefined);
  assert.match(unsafeEntry('../x', 'File', undefined, none)!, /leaves the layer/);
  assert.match(unsafeEntry('a/../../x', 'File', undefined, none)!, /leaves the layer/);
  assert.match(unsafeEntry('/etc/passwd', 'File', undefined, none)!, /absolute path/);
  assert.match(unsafeEntry('h', 'Link', '../../etc/shadow', none)!, /hard link "h" points outside/);
  assert.match(unsafeEntry('h', 'Link', '/etc/shadow', none)!, /hard link/);
  assert.is(unsafeEntry('h', 'Link', 'data/a', none), undefined);
  assert.match(unsafeEntry('esc/pwned', 'File', undefined, new Set(['esc']))!, /written through the symlink "esc"/);
});

test.run();
