// `__supervisor`: one Node process per store (BOX_ROOT) that owns every detached container
// (`run -d`, `create`) — their logs, exit codes, OOM records and teardown — instead of one
// Node process per container (~20 MB each). Started on demand by the first client that
// needs it (client.ts), under its anchor (anchor.ts); exits as soon as it supervises
// nothing and no client is talking to it. Its containers survive its death (their output
// goes through FIFOs, their exit statuses wait in zombies under the anchor) and the next
// supervisor adopts them (adopt.ts).
//
// Protocol on RUN/supervisor.sock (root only: the directory is 0700): one JSON line from
// the client, replies as JSON lines, then the client closes.
//   {run: ID, verb: 'run'|'create'}  →  {running} | {created} | {error, status}
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import * as libc from '../libc';
import { RUN, SUPERVISOR_SOCKET } from '../state/paths';
import { recordAnchor, forgetAnchor, releaseAnchors } from '../state/anchors';
import { collect } from '../state/collect';
import { processStart, signalProcess } from '../util/proc';
import { superviseContainer, Identity } from './container';
import { adopt } from './adopt';

const active = new Set<Promise<unknown>>();
let clients = 0;
let server: net.Server;
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
  server = net.createServer(onClient);
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(SUPERVISOR_SOCKET, resolve); });
  fs.chmodSync(SUPERVISOR_SOCKET, 0o600);
  report({ ready: true });
  // the containers a dead predecessor left running
  for (const id of collect()) track(adopt(id, me));
  setTimeout(() => { waitingForFirst = false; maybeExit(); }, FIRST_CLIENT_MS).unref();
  return undefined; // the event loop keeps us; maybeExit() ends the process
}

function track(p: Promise<unknown>) {
  active.add(p);
  p.catch(() => {}).finally(() => { active.delete(p); releaseAnchors(); maybeExit(); });
}

function onClient(conn: net.Socket) {
  clients++;
  waitingForFirst = false;
  let buf = '';
  let closed = false;
  const send = (m: object) => { if (!conn.destroyed) conn.write(JSON.stringify(m) + '\n'); };
  const gone = () => { if (!closed) { closed = true; clients--; maybeExit(); } };
  conn.on('close', gone);
  conn.on('error', () => conn.destroy());
  conn.setEncoding('utf8');
  conn.on('data', (d: string) => {
    buf += d;
    const nl = buf.indexOf('\n');
    if (nl < 0) return;
    let req: any;
    try { req = JSON.parse(buf.slice(0, nl)); } catch { conn.destroy(); return; }
    buf = buf.slice(nl + 1);
    if (typeof req.run === 'string' && (req.verb === 'run' || req.verb === 'create')) {
      track(superviseContainer(req.run, req.verb, me, anchor, send));
    } else {
      send({ error: 'box: supervisor: unknown request', status: 125 });
      conn.end();
    }
  });
}

/** Nothing supervised and nobody talking: unpublish the socket, release the anchor, go. */
function maybeExit() {
  if (active.size || clients || waitingForFirst || !server) return;
  fs.rmSync(SUPERVISOR_SOCKET, { force: true }); // new clients start a successor from here on
  server.close();
  if (anchor) {
    forgetAnchor(anchor.pid);
    signalProcess(anchor.pid, anchor.start, 9);
  }
  process.exit(0);
}
