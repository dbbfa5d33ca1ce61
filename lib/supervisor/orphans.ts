// The adoption trigger on the paths of `box ps`, `run`, `create` and `rm`: collect() (lib/state/
// collect.ts), and only when it names detached containers that run without a supervisor
// (it died) is the client loaded (socket, spawn, terminals: start-up cost those verbs need
// not pay) to start one in the background: it adopts them as it starts.
import { collect } from '../state/collect';

export function collectAndAdopt() {
  if (!collect().length) return;
  require('./client').startSupervisor().catch(() => { /* the next box invocation tries again */ });
}
