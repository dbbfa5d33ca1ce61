// Reading other processes from /proc, for the benches' memory columns: who runs (command line,
// environment) and what it costs (RSS, PSS). Every reader returns an empty value for a process
// that is gone or a zombie, since the set changes under our feet.
import * as fs from 'node:fs';

/** Every pid on the host now. */
export const pids = () => fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map(Number);

export const cmdline = (p: number): string[] => { try { return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').filter(Boolean); } catch { return []; } };

/** The environment the process was started with (not later setenv calls). */
export const environ = (p: number): string[] => { try { return fs.readFileSync(`/proc/${p}/environ`, 'utf8').split('\0').filter(Boolean); } catch { return []; } };

export const isZombie = (p: number) => { try { return /^\S+ \(.*\) [ZX]/s.test(fs.readFileSync(`/proc/${p}/stat`, 'utf8')); } catch { return true; } };

export const rssKb = (p: number) => { try { return Number((fs.readFileSync(`/proc/${p}/status`, 'utf8').match(/^VmRSS:\s+(\d+)/m) || [])[1] || 0); } catch { return 0; } };

/**
 * Proportional set size: private pages plus each shared page divided by the number of processes
 * mapping it, so N copies of the same Node binary are not counted N times (RSS would).
 */
export const pssKb = (p: number) => { try { return Number((fs.readFileSync(`/proc/${p}/smaps_rollup`, 'utf8').match(/^Pss:\s+(\d+)/m) || [])[1] || 0); } catch { return 0; } };
