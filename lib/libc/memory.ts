// Giving memory back to the kernel: for the long-lived, mostly idle shared supervisor
// (lib/supervisor/trim.ts), whose cost per container is judged by what it keeps resident.
import { func } from './core';

/** MADV_PAGEOUT (Linux 5.4): reclaim these pages now, as memory pressure would. */
export const MADV_PAGEOUT = 21;

/**
 * madvise(addr, len, advice) → 0, or -1 (EINVAL on a kernel without the advice, or a range
 * that cannot take it). The address goes as an integer, not a pointer: it comes from
 * /proc/self/maps, user-space addresses stay below 2^47 (exact in a double), and on x86_64
 * and arm64 an integer argument is passed exactly as a pointer is.
 */
export const madvise = (addr: number, len: number, advice: number): number =>
  Number(func('int madvise(uint64_t addr, size_t length, int advice)')(addr, len, advice));

/** glibc's malloc_trim(0): return the free memory of every malloc arena to the kernel. */
export const mallocTrim = (): number => Number(func('int malloc_trim(size_t pad)')(0));
