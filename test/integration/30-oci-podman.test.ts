// podman 4.3 (+ conmon) driving the runtime under test (box's OCI mode; BOX_OCI_RUNTIME=/usr/sbin/runc
// runs the same cases against runc): a private podman instance in a temp dir (test/helpers/engines.ts).
import { test } from 'uvu';
import { Podman, missing, runtimeUnderTest, engineSuite } from '../helpers/engines';
import { engineCases, assertStopsClean } from '../helpers/engine-cases';
import * as assert from 'uvu/assert';

const { t, engine } = engineSuite(test, missing('podman', 'conmon'), () => new Podman(runtimeUnderTest()));
engineCases(t, engine, 'pod');
t('stop() leaves nothing of the instance', async () => { await assertStopsClean(engine()); });

// What a user sets up: `runtime` = a symlink named box-runc, no --runtime-flag. conmon's cleanup
// calls `delete --force <id>` with no global flags at all, so the runtime must know itself by its
// name and use its default root for every call (with `--runtime-flag root=…` that one call
// would miss the container's state).
t('podman through a plain box-runc symlink (default state root): run, exec, rm leave no state', async () => {
  const p = new Podman(runtimeUnderTest(), { symlink: true });
  try {
    const r = p.cli(['run', '--rm', ...p.runFlags, 'sh', '-c', 'exit 3']);
    assert.is(r.status, 3, r.stderr);
    const name = `pod-link-${process.pid}`;
    const d = p.cli(['run', '-d', '--name', name, ...p.runFlags, 'sh', '-c', 'trap "exit 0" TERM; while :; do sleep 0.1; done']);
    assert.is(d.status, 0, d.stderr);
    const id = d.stdout.trim();
    const ex = p.cli(['exec', name, 'sh', '-c', 'exit 4']);
    assert.is(ex.status, 4, ex.stderr);
    assert.ok(p.stateEntries().includes(id), `${id} not in ${p.stateRoot}`);
    assert.is(p.cli(['rm', '-f', name]).status, 0);
    const end = Date.now() + 10000;
    while (p.stateEntries().includes(id) && Date.now() < end) await new Promise((res) => setTimeout(res, 100));
    assert.not.ok(p.stateEntries().includes(id), `${id} left in ${p.stateRoot}`);
  } finally {
    assert.equal(await p.stop(), []);
  }
});
test.run();
