// `list [--format table|json] [-q]`: every container of this state root, as runc lists them.
import { OciStore, stateJson } from './state';
import { table } from '../util/table';

export function ociList(store: OciStore, format: string, quiet: boolean): string {
  const states = store.ids().flatMap((id) => { try { return [stateJson(store, store.load(id))]; } catch { return []; } });
  if (quiet) return states.map((s) => s.id).join('\n') + (states.length ? '\n' : '');
  if (format === 'json') return JSON.stringify(states) + '\n';
  return table([['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'], ...states.map((s) => [s.id, String(s.pid), s.status, s.bundle, s.created, 'root'])]);
}
