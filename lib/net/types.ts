// The data of box's networking (issue 17), shared by the network store (store.ts, ipam.ts,
// bridge.ts), the firewall and the userland proxy (firewall.ts, proxy.ts) and the wiring that
// attaches a container (attach.ts). Plain JSON: records on disk hold them.

/**
 * A bridge network: box's default one (name "bridge") or one made by `box network create`.
 * Stored as JSON under ROOT/networks/ (lib/net/store.ts).
 */
export interface Network {
  id: string;                        // 64 hex digits, as a container's
  name: string;                      // "bridge" for the default one
  driver: 'bridge';
  bridge: string;                    // the bridge link's name (≤ 15 chars): box0 for the default store's default network
  subnet: string;                    // CIDR, e.g. 172.17.0.0/16
  gateway: string;                   // the bridge's own address: the containers' default route
  created: string;                   // ISO time
  labels?: Record<string, string>;
}

/** A container's place on a network, kept in its record while it runs (lib/net/ipam.ts allocates it). */
export interface Endpoint {
  network: string;                   // Network.name
  networkId: string;                 // Network.id
  address: string;                   // e.g. 172.17.0.2
  prefix: number;                    // the subnet's prefix length, e.g. 16
  gateway: string;
  mac: string;                       // 02:42:ac:11:00:02: Docker's, made from the address unless --mac-address
  hostIf: string;                    // the veth's host end (≤ 15 chars), on the bridge
  bridge: string;                    // the bridge it is a port of
}

/** -p/--publish: one published port, Docker's PortBinding. */
export interface PortMapping {
  hostIp: string;                    // '' = every address (Docker shows 0.0.0.0)
  hostPort: number;                  // 0 = any free one (-P, or -p CTRPORT): the proxy's bind picks it
  containerPort: number;
  proto: 'tcp' | 'udp';
}
