// The Container API: everything box does to a container, for the CLI verbs (lib/cli/: parse
// flags, call this, print), and for whatever else drives containers — the OCI runtime CLI,
// a Node library, a shared supervisor. Nothing here prints or exits; failures are
// ContainerError with a `code`. Several containers can be driven from one process: the only
// state kept between calls is on disk (the store, lib/state/) and in each call's objects.
// The CLI imports the operation's own module (lib/container/<op>.ts), not this index, so
// that a verb loads only what it uses: start-up time is box's main cost (bench/).
//
//   create     createContainer(request, verb, warn)  record, layer, cgroups, limits
//   run        runContainer(state, io)                 this process owns it: stage, start, wait → exit status
//   detach     detach(state, 'run' | 'create')         a supervisor owns it (run -d, create)
//   start      startCreated(ref)                       a created container, held by its supervisor
//   exec       exec(state, options, io)                → the command's exit status
//   kill/stop  kill(ref, signal), stop(ref, options)   to PID 1 only if it is the recorded process
//   wait       wait(ref)                               → exit code
//   delete     remove(ref, {force}), prune()
//   pause      pause(ref), resume(ref)                 the cgroup freezer
//   update     update(ref, resources)                  limits, live
//   read       get(ref), list({all}), isRunning(state), current(state), stats(state), processes(state)
export { ContainerError, ContainerErrorCode } from './errors';
export { createContainer } from './create';
export { runContainer, RunIO } from './start';
export { detach, startCreated, logFile } from './supervisor';
export { exec, ExecOptions } from './exec';
export { kill, stop, wait, parseSignal } from './kill';
export { remove, prune } from './remove';
export { teardown } from './teardown';
export { get, list, isRunning, current, waitFor, ContainerState } from './query';
export { IO } from './stage';
export { stats, processes, Stats, ProcessInfo } from './stats';
export { pause, resume } from './pause';
export { update } from './update';
