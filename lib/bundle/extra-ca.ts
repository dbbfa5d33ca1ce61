// NODE_EXTRA_CA_CERTS, honoured where box speaks TLS (the registry client) instead of at
// every start-up. Node reads that file and builds its certificate store as it starts (about
// 90 ms here), in every process, though only `box pull` makes TLS connections; so ./box's
// first line moves the value to BOX_EXTRA_CA_CERTS before exec'ing Node (scripts/build.ts),
// and box's helper processes get it under that name too (lib/container/launch.ts selfEnv).
// Here it is put back the way Node would have: these certificates on top of Node's own
// roots, for every TLS client of this process that does not choose its own CAs.
import * as fs from 'node:fs';

let applied = false;

export function useExtraCaCerts(): void {
  const file = process.env.BOX_EXTRA_CA_CERTS;
  if (applied || !file) return;
  applied = true;
  let extra: string;
  try {
    extra = fs.readFileSync(file, 'utf8');
  } catch (e: any) {
    process.emitWarning(`Ignoring extra certs from \`${file}\`, load failed: ${e.message}`); // Node's own words for this
    return;
  }
  // The module object itself (not an import's copy): tls.connect looks createSecureContext up on it.
  const tls: typeof import('node:tls') = require('node:tls');
  const ca = [...tls.rootCertificates, extra];
  const original = tls.createSecureContext;
  (tls as any).createSecureContext = (opts: import('node:tls').SecureContextOptions = {}) => original(opts.ca ? opts : { ...opts, ca });
}
