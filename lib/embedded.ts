// Blobs the bundle carries (koffi's native modules, the busybox rootfs). scripts/build.ts
// replaces this module with generated data; in development (tsx) there is none and
// callers read node_modules/ and images/ instead.
export interface Blob { sha256: string; size: number; data: () => string }
export interface Embedded {
  version: string;
  koffi: Record<string, Blob | undefined>;
  busybox?: Blob;
}

export function embedded(): Embedded | undefined {
  return undefined;
}
