// Verbs that take several containers (stop, kill, rm, start, pause…) act on each in turn, as
// Docker does: print the name given when it worked, the error when not, and exit 1 if
// any failed — one bad name does not stop the others.
export async function forEachContainer(refs: string[], act: (ref: string) => unknown): Promise<number> {
  let status = 0;
  for (const ref of refs) {
    try {
      await act(ref);
      process.stdout.write(ref + '\n');
    } catch (e: any) {
      process.stderr.write(`${e.message}\n`);
      status = 1;
    }
  }
  return status;
}
