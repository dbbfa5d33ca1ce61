// Image references as Docker reads them: [registry[:port]/]path[:tag|@digest].
// A first component with a "." or ":" (or "localhost") is a registry; otherwise Docker Hub,
// where one-component names live under library/.
export interface Reference { registry: string; repository: string; tag?: string; digest?: string; insecure: boolean }

export function parseReference(ref: string, insecure = false): Reference {
  let rest = ref, digest: string | undefined, tag: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) { digest = rest.slice(at + 1); rest = rest.slice(0, at); }
  const slash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > slash) { tag = rest.slice(colon + 1); rest = rest.slice(0, colon); }
  const parts = rest.split('/');
  let registry = 'docker.io';
  if (parts.length > 1 && (parts[0].includes('.') || parts[0].includes(':') || parts[0] === 'localhost')) registry = parts.shift()!;
  let repository = parts.join('/');
  if (registry === 'docker.io' && parts.length === 1) repository = `library/${repository}`;
  if (!/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/.test(repository)) throw new Error(`invalid reference format: repository name "${repository}" must be lowercase`);
  if (tag !== undefined && !/^[\w][\w.-]{0,127}$/.test(tag)) throw new Error(`invalid reference format: tag "${tag}"`);
  if (digest !== undefined && !/^sha256:[0-9a-f]{64}$/.test(digest)) throw new Error(`invalid reference format: digest "${digest}"`);
  if (!tag && !digest) tag = 'latest';
  const host = registry.replace(/:\d+$/, '');
  return { registry, repository, tag, digest, insecure: insecure || host === 'localhost' || host.startsWith('127.') || host === '[::1]' };
}

/** The name an image is stored under: Docker Hub's library/ and docker.io/ left out. */
export function familiarName(r: Reference): string {
  const repo = r.registry === 'docker.io' ? r.repository.replace(/^library\//, '') : `${r.registry}/${r.repository}`;
  return r.digest && !r.tag ? `${repo}@${r.digest}` : `${repo}:${r.tag}`;
}
