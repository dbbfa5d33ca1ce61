// podman 4.3 (+ conmon) driving the runtime under test (box's OCI mode; BOX_OCI_RUNTIME=/usr/sbin/runc
// runs the same cases against runc): a private podman instance in a temp dir (test/helpers/engines.ts).
import { test } from 'uvu';
import { Podman, missing, runtimeUnderTest } from '../helpers/engines';
import { engineCases, assertStopsClean } from '../helpers/engine-cases';
import * as fs from 'node:fs';
import { needs } from '../helpers/box';

const why = missing('podman', 'conmon');
const t = needs(test, !why, why);
let eng: Podman;

if (!why) test.before(async () => { eng = await new Podman(runtimeUnderTest()).start(); });
engineCases(t, () => eng, 'pod');
t('stop() leaves nothing of the instance', async () => { await assertStopsClean(eng); });
test.after(async () => { if (eng && fs.existsSync(eng.dir)) await eng.stop(); });
test.run();
