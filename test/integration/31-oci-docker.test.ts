// dockerd 20.10 (+ its containerd and containerd-shim-runc-v2) driving the runtime under test,
// added as `--add-runtime box=<path>` to a private dockerd (test/helpers/engines.ts);
// BOX_OCI_RUNTIME=/usr/sbin/runc runs the same cases against runc.
import { test } from 'uvu';
import * as fs from 'node:fs';
import { Docker, missing, runtimeUnderTest } from '../helpers/engines';
import { engineCases, assertStopsClean } from '../helpers/engine-cases';
import { needs } from '../helpers/box';

const why = missing('dockerd', 'docker', 'containerd', 'shim');
const t = needs(test, !why, why);
let eng: Docker;

// A set-up failure fails every test with its message (uvu would otherwise report 0 of N and pass).
let setupError: Error | undefined;
if (!why) test.before(async () => { try { eng = new Docker(runtimeUnderTest()); await eng.start(); } catch (e) { setupError = e as Error; } });
const engine = () => { if (setupError) throw setupError; return eng; };
engineCases(t, engine, 'dk');
t('stop() leaves nothing of the instance (dockerd, its containerd, shims, mounts, cgroups)', async () => { await assertStopsClean(engine()); });
test.after(async () => { if (eng && fs.existsSync(eng.dir)) await eng.stop(); });
test.run();
