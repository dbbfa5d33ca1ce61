// help.ts's descriptions of `box network`'s verbs (lib/cli/network.ts).
type Flag = string | [string, string];

export const NETWORK_VERBS: Record<string, { usage: string; about: string; flags?: Record<string, Flag> }> = {
  network: { usage: 'COMMAND', about: 'Manage networks (bridges made by box). Commands: create, inspect, ls, prune, rm.' },
  'network create': {
    usage: '[OPTIONS] NETWORK', about: "Create a bridge network: its own bridge link and subnet (by default the first of Docker's pools no route of this host and no other network uses). Prints its id.",
    flags: { driver: ['string', 'Driver to manage the Network (only "bridge")'], subnet: ['string', 'Subnet in CIDR format that represents a network segment'], gateway: ['string', 'IPv4 Gateway for the master subnet (default: its first address)'], label: ['list', 'Set metadata on a network'] },
  },
  'network ls': { usage: '[OPTIONS]', about: 'List networks (the default "bridge" is made on first use).', flags: { quiet: 'Only display network IDs', 'no-trunc': 'Do not truncate the output', format: ['string', "Format output: 'json', or a Go template ('table …' with a header)"], filter: ['filter', 'Provide filter values (name, id, driver, label, type=builtin|custom, scope)'] } },
  'network rm': { usage: '[OPTIONS] NETWORK [NETWORK...]', about: 'Remove one or more networks and their bridges. A network with containers attached, and the default "bridge", cannot be removed.', flags: { force: 'Do not error if the network does not exist' } },
  'network prune': { usage: '[OPTIONS]', about: 'Remove all custom networks not used by at least one container (and their bridges).', flags: { force: 'Do not prompt for confirmation' } },
  'network inspect': { usage: '[OPTIONS] NETWORK [NETWORK...]', about: 'Display detailed information on one or more networks (Docker\'s keys).', flags: { format: ['string', "Format output: 'json', or a Go template"] } },
};
