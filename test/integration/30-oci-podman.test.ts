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

// A set-up failure fails every test with its message (uvu would otherwise report 0 of N and pass).
let setupError: Error | undefined;
if (!why) test.before(async () => { try { eng = new Podman(runtimeUnderTest()); await eng.start(); } catch (e) { setupError = e as Error; } });
const engine = () => { if (setupError) throw setupError; return eng; };
engineCases(t, engine, 'pod');
t('stop() leaves nothing of the instance', async () => { await assertStopsClean(engine()); });
test.after(async () => { if (eng && fs.existsSync(eng.dir)) await eng.stop(); });
test.run();
