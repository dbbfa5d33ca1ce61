// Blobs the bundle carries (koffi's native modules and the --init binary, both brotli, and
// the busybox rootfs). scripts/build.ts
// replaces this module with generated data; in development (tsx) there is none and
// callers read node_modules/ and images/ instead.
export interface Blob { sha256: string; size: number; data: () => string }
export interface Embedded {
  version: string;
  koffi: Record<string, Blob | undefined>;
  busybox?: Blob;
  /** tini-static per Node arch (x64, arm64), from images/init/. */
  init: Record<string, Blob | undefined>;
}

export function embedded(): Embedded | undefined {
  return undefined;
}
