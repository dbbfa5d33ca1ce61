// help.ts's descriptions of lib/options/run-extra.ts's flags and of `box volume`'s verbs.
type Flag = string | [string, string];

export const RUN_EXTRA_FLAGS: Record<string, Flag> = {
  label: ['list', 'Set meta data on a container (KEY=VALUE)'],
  'label-file': ['list', 'Read in a line delimited file of labels'],
  ulimit: ['ulimit', 'Ulimit options (NAME=SOFT[:HARD], -1 unlimited; never above box\'s own hard limit)'],
  'shm-size': ['bytes', 'Size of /dev/shm (default 64m)'],
  device: ['list', 'Add a host device to the container (HOST[:CONTAINER][:rwm])'],
  'oom-score-adj': ['int', "Tune host's OOM preferences (-1000 to 1000)"],
  'memory-swappiness': ['int', 'Tune container memory swappiness (0 to 100; cgroup v1 only)'],
  cidfile: ['string', 'Write the container ID to the file'],
  'log-driver': ['string', 'Logging driver for the container (json-file, none)'],
  'log-opt': ['list', 'Log driver options (max-size, max-file)'],
  mount: ['mount', 'Attach a filesystem mount to the container (type=bind|volume|tmpfs,source=…,target=…[,readonly])'],
};

export const VOLUME_VERBS: Record<string, { usage: string; about: string; flags?: Record<string, Flag> }> = {
  volume: { usage: 'COMMAND', about: 'Manage volumes. Commands: create, inspect, ls, prune, rm.' },
  'volume create': { usage: '[OPTIONS] [VOLUME]', about: 'Create a volume (a directory in the store).', flags: { driver: ['string', 'Specify volume driver name (only "local")'], label: ['list', 'Set metadata for a volume'], name: ['string', 'Specify volume name'] } },
  'volume ls': { usage: '[OPTIONS]', about: 'List volumes.', flags: { quiet: 'Only display volume names' } },
  'volume rm': { usage: '[OPTIONS] VOLUME [VOLUME...]', about: 'Remove one or more volumes. You cannot remove a volume that is in use by a container.', flags: { force: 'Do not fail when a volume does not exist' } },
  'volume inspect': { usage: 'VOLUME [VOLUME...]', about: 'Display detailed information on one or more volumes.' },
  'volume prune': { usage: '[OPTIONS]', about: 'Remove unused anonymous volumes (with -a, every unused volume).', flags: { all: 'Remove all unused volumes, not just anonymous ones', force: 'Do not prompt for confirmation' } },
};
