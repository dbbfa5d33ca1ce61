// The stages' own code part (scripts/build.ts): what `__init` and `__exec` run, without the
// rest of box (the CLI, the supervisor, images, the seccomp compiler), so that a stage —
// started for every container and every exec — reads, decodes and compiles an eighth of it (67 KiB of 559).
// The loader (lib/bundle/loader.ts) calls these for the two hidden verbs, as box.ts would.
export { stageInit } from './init';
export { stageExec } from './exec';
