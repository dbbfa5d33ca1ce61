// A client of the OCI distribution API (what `docker pull` speaks), on Node's fetch:
// Bearer tokens from the registry's WWW-Authenticate challenge (Docker Hub's flow),
// plain HTTP only for localhost or --insecure, Accept for OCI and Docker schema2
// manifests and indexes on every manifest request (registries answer 404 otherwise).
import { Reference } from './reference';
import { useExtraCaCerts } from '../bundle/extra-ca';

export const MEDIA = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
} as const;
const ACCEPT = [MEDIA.ociIndex, MEDIA.ociManifest, MEDIA.dockerList, MEDIA.dockerManifest].join(', ');

export class Registry {
  private token?: string;
  private base: string;

  constructor(private ref: Reference) {
    const host = ref.registry === 'docker.io' ? 'registry-1.docker.io' : ref.registry;
    this.base = `${ref.insecure ? 'http' : 'https'}://${host}/v2/${ref.repository}`;
    useExtraCaCerts(); // NODE_EXTRA_CA_CERTS, which ./box keeps from Node's start-up
  }

  async manifest(reference: string): Promise<{ body: Buffer; mediaType: string; digest?: string }> {
    const res = await this.get(`/manifests/${reference}`, ACCEPT);
    const body = Buffer.from(await res.arrayBuffer());
    const mediaType = (res.headers.get('content-type') || '').split(';')[0] || JSON.parse(body.toString()).mediaType;
    return { body, mediaType, digest: res.headers.get('docker-content-digest') ?? undefined };
  }

  async blob(digest: string): Promise<Response> {
    return this.get(`/blobs/${digest}`);
  }

  private async get(p: string, accept?: string, retried = false): Promise<Response> {
    const headers: Record<string, string> = {};
    if (accept) headers.Accept = accept;
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    let res: Response;
    try {
      res = await fetch(this.base + p, { headers, redirect: 'follow' });
    } catch (e: any) {
      throw new Error(`cannot reach registry ${this.ref.registry}: ${e.cause?.code ?? e.cause?.message ?? e.message}`);
    }
    if (res.status === 401 && !retried) {
      await this.authenticate(res.headers.get('www-authenticate') || '');
      return this.get(p, accept, true);
    }
    if (res.status === 404) throw new Error(`${this.ref.repository}${p.startsWith('/manifests/') ? ':' + p.slice(11) : ''}: not found in ${this.ref.registry}`);
    if (!res.ok) throw new Error(`registry ${this.ref.registry} answered ${res.status} ${res.statusText} for ${p}`);
    return res;
  }

  /** WWW-Authenticate: Bearer realm="…",service="…",scope="…" → an anonymous pull token. */
  private async authenticate(challenge: string) {
    const params = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (!/^Bearer/i.test(challenge) || !params.realm) throw new Error(`registry ${this.ref.registry} wants authentication box cannot give (${challenge || 'no challenge'})`);
    const url = new URL(params.realm);
    if (params.service) url.searchParams.set('service', params.service);
    url.searchParams.set('scope', params.scope || `repository:${this.ref.repository}:pull`);
    const res = await fetch(url);
    if (!res.ok) throw new Error(`token request to ${url.host} failed: ${res.status}`);
    const body: any = await res.json();
    this.token = body.token || body.access_token;
  }
}

export function platformArch(): string {
  return { x64: 'amd64', arm64: 'arm64' }[process.arch as 'x64'] ?? process.arch;
}
