// dockerd 20.10 (+ its containerd and containerd-shim-runc-v2) driving the runtime under test,
// added as `--add-runtime box=<path>` to a private dockerd (test/helpers/engines.ts);
// BOX_OCI_RUNTIME=/usr/sbin/runc runs the same cases against runc.
import { test } from 'uvu';
import { Docker, missing, runtimeUnderTest, engineSuite } from '../helpers/engines';
import { engineCases, assertStopsClean } from '../helpers/engine-cases';

const { t, engine } = engineSuite(test, missing('dockerd', 'docker', 'containerd', 'shim'), () => new Docker(runtimeUnderTest()));
engineCases(t, engine, 'dk');
t('stop() leaves nothing of the instance (dockerd, its containerd, shims, mounts, cgroups)', async () => { await assertStopsClean(engine()); });
test.run();
