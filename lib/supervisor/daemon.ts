// `__supervisor`: one Node process per store (BOX_ROOT) that owns every detached container
// (`run -d`, `create`) — their logs, exit codes, OOM records and teardown — instead of one
// Node process per container (~20 MB each). Started on demand by the first client that
// needs it (client.ts), under its anchor (anchor.ts); exits as soon as it supervises
// nothing and no client is talking to it. Its containers survive its death (their output
// goes through FIFOs, their exit statuses wait in zombies under the anchor) and the next
// supervisor adopts them (adopt.ts).
//
// It also keeps a warm pool of pre-booted stages (BOX_POOL, default 1; lib/container/pool.ts)
// for the containers it starts, detached ones and attached `box run`s handed to it — while
// it is used: a pool nobody took from for a minute is let go (an idle stage is ~13 MB), and
// the next container brings it back.
//
// Protocol on RUN/supervisor.sock (root only: the directory is 0700): one message from the
// client (a JSON line, with fds as SCM_RIGHTS), replies as JSON lines, then the client closes.
//   {run: ID, verb: 'run'|'create'|'start'}  →  {running} | {created} | {error, status}   (start: an exited container again)
//   {runAttached: RunRequest, imagePath, stdio: [targets], knobs} + the client's fds for them
//        →  {warning}… {error, status} | {attached, pid} (+ the pty master with -t) … {exit: status}
//           | {cold} (the client runs it itself)   (attached.ts, run-client.ts)
//   {attach: ID, stdin}  →  framed output, stdin and window size both ways until the container ends (attach.ts)
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import * as libc from '../libc';
import { RUN, SUPERVISOR_SOCKET } from '../state/paths';
import { recordAnchor, forgetAnchor, releaseAnchors } from '../state/anchors';
import { collect } from '../state/collect';
import { processStart, signalProcess } from '../util/proc';
import { superviseContainer, Identity } from './container';
import { runAttached } from './attached';
import { UNKNOWN_REQUEST } from './run-client';
import { adopt } from './adopt';
import { StagePool } from '../container/pool';
import { recvFds, sendFds } from '../libc/fdpass';
import { noteActivity } from './trim';
import { attachClient } from './attach';

const active = new Set<Promise<unknown>>();
let clients = 0;
let server: net.Server;
let pool: StagePool | undefined;
let poolUsed = 0;
const POOL_IDLE_MS = 60000;
const ID = /^[0-9a-f]{64}$/;
let me: Identity;
let anchor: Identity | undefined;
// The client that started us connects right after "ready": until a first client came (or
// a few seconds passed), having nothing to supervise is no reason to exit.
let waitingForFirst = true;
const FIRST_CLIENT_MS = 5000;

/** Tell the client that started us how it went (fd 3, inherited through the anchor), once. */
function report(m: object) {
  try { fs.writeSync(3, JSON.stringify(m) + '\n'); fs.closeSync(3); } catch { /* no client waits */ }
}

export async function serve(anchorPid: string | undefined): Promise<number | undefined> {
  process.title = 'box-supervisor';
  me = { pid: process.pid, start: processStart(process.pid)! };
  // our anchor, if our parent is the one that said so (started by hand, the parent is a shell: never kill that)
  const parentStart = processStart(process.ppid);
  anchor = parentStart && String(process.ppid) === anchorPid ? { pid: process.ppid, start: parentStart } : undefined;
  // One supervisor per store: the one holding this lock for its whole life. A second one
  // (two clients raced to start one) says so and goes; its client connects to the first.
  fs.mkdirSync(RUN, { recursive: true, mode: 0o700 });
  const lockFile = path.join(RUN, 'supervisor.lock');
  const lock = fs.openSync(lockFile, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
  if (!libc.tryFlockExclusive(lock, lockFile)) {
    report({ busy: true });
    if (anchor) signalProcess(anchor.pid, anchor.start, 9); // ours holds nothing yet
    return 0;
  }
  if (anchor) recordAnchor({ ...anchor, supervisor: me });
  fs.rmSync(SUPERVISOR_SOCKET, { force: true }); // a dead predecessor's: we hold the lock, it is not in use
  // paused: the first message is read with recvmsg (it may carry fds), not by libuv
  server = net.createServer({ pauseOnConnect: true }, onClient);
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(SUPERVISOR_SOCKET, resolve); });
  fs.chmodSync(SUPERVISOR_SOCKET, 0o600);
  report({ ready: true });
  setInterval(() => {
    if (pool && Date.now() - poolUsed > POOL_IDLE_MS) { pool.close(); pool = undefined; noteActivity(); }
  }, POOL_IDLE_MS / 4).unref();
  // the containers a dead predecessor left running
  for (const id of collect()) track(adopt(id, me, anchor));
  setTimeout(() => { waitingForFirst = false; maybeExit(); }, FIRST_CLIENT_MS).unref();
  noteActivity(); // quiet from here on: give back what start-up left resident (trim.ts)
  return undefined; // the event loop keeps us; maybeExit() ends the process
}

/**
 * Leak collection (and adoption of what a dead box left running), once the attached runs of
 * this turn are done: they skip it on their way in (createContainer's collectLater), since it
 * reads every live container's record — a cost that would grow with their number on every run.
 */
let collecting: NodeJS.Immediate | undefined;
function collectSoon() {
  collecting ??= setImmediate(() => {
    collecting = undefined;
    try { for (const id of collect()) track(adopt(id, me)); } catch { /* the next one tries again */ }
  });
}

function track(p: Promise<unknown>) {
  active.add(p);
  p.catch(() => {}).finally(() => { active.delete(p); releaseAnchors(); maybeExit(); noteActivity(); });
}

/** The pool for a container about to start (made now if it was let go: this one starts cold, the next warm). */
function warmPool(): StagePool | undefined {
  poolUsed = Date.now();
  if (!pool && poolSize()) pool = new StagePool(poolSize());
  return pool;
}

/** BOX_POOL: how many pre-booted stages to keep (0: none). */
function poolSize(): number {
  const n = Number(process.env.BOX_POOL ?? 1);
  return Number.isInteger(n) && n >= 0 && n <= 64 ? n : 1;
}

function onClient(conn: net.Socket) {
  clients++;
  waitingForFirst = false;
  noteActivity();
  const fd: number = (conn as any)._handle.fd;
  // the client sends its request right after connecting: a bounded wait, in this thread
  const first = readRequest(fd);
  let closed = false;
  let onGone: () => void = () => {};
  const clientGone = new Promise<void>((r) => { onGone = r; });
  const gone = () => { if (!closed) { closed = true; clients--; onGone(); maybeExit(); } };
  conn.on('close', gone);
  conn.on('error', () => conn.destroy());
  conn.resume(); // nothing more comes from the client; this notices when it goes
  const send = (m: object, fds: number[] = []) => {
    if (closed || conn.destroyed) return;
    try { sendFds(fd, Buffer.from(JSON.stringify(m) + '\n'), fds); } catch { conn.destroy(); }
  };
  let req: any;
  try { req = first && JSON.parse(first.data.toString()); } catch { /* not ours */ }
  if (typeof req?.run === 'string' && ID.test(req.run) && (req.verb === 'run' || req.verb === 'create' || req.verb === 'start') && !first!.fds.length) {
    track(superviseContainer(req.run, req.verb, me, anchor, send, warmPool()));
  } else if (req && typeof req === 'object' && 'attach' in req) {
    attachClient(req, first!.fds, conn); // held by its connection (clients), not tracked
  } else if (req?.runAttached && typeof req.runAttached === 'object') {
    track(runAttached(req, first!.fds, me, warmPool(), send, clientGone).finally(collectSoon));
  } else {
    for (const f of first?.fds ?? []) fs.closeSync(f);
    send({ error: UNKNOWN_REQUEST, status: 125 });
    conn.destroy();
  }
}

const MAX_REQUEST = 16 << 20;
/**
 * The client's one request line and the fds sent with it. A long one (a run's environment, its
 * seccomp profile) may come in several reads; the fds come with the first.
 */
function readRequest(fd: number): { data: Buffer; fds: number[] } | undefined {
  const first = recvFds(fd, 3, 2000);
  if (!first) return undefined;
  const parts = [first.data];
  let size = first.data.length;
  while (!parts[parts.length - 1].includes(10) && size < MAX_REQUEST) {
    const more = recvFds(fd, 0, 2000);
    if (!more) break;
    for (const f of more.fds) fs.closeSync(f);
    parts.push(more.data);
    size += more.data.length;
  }
  const data = Buffer.concat(parts);
  const nl = data.indexOf(10);
  return { data: nl < 0 ? data : data.subarray(0, nl), fds: first.fds };
}

/** Nothing supervised and nobody talking: unpublish the socket, release the anchor, go. */
function maybeExit() {
  if (active.size || clients || waitingForFirst || !server) return;
  fs.rmSync(SUPERVISOR_SOCKET, { force: true }); // new clients start a successor from here on
  server.close();
  pool?.close(); // SIGKILLs the idle stages now (they would die with us anyway: parent-death signal)
  if (anchor) {
    forgetAnchor(anchor.pid);
    signalProcess(anchor.pid, anchor.start, 9);
  }
  process.exit(0);
}
