// The PATH a container gets when its image sets none, the one execvp-style lookup falls
// back to, and the one box's stages run with: Docker's default.
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
