// Pull progress like Docker's: one line per layer, redrawn in place on a terminal;
// on anything else, only the lines that say something happened.
export class Progress {
  private lines: string[];
  private drawn = 0;
  private tty: boolean;

  constructor(private out: NodeJS.WriteStream, private ids: string[]) {
    this.tty = !!out.isTTY;
    this.lines = ids.map((id) => `${id}: Waiting`);
    if (this.tty) this.draw();
    else ids.forEach((id) => out.write(`${id}: Pulling fs layer\n`));
  }

  private last = 0;
  update(i: number, text: string) {
    this.lines[i] = `${this.ids[i]}: ${text}`;
    if (this.tty && Date.now() - this.last > 100) this.draw(); // at most ten redraws a second
  }

  done(i: number, text: string) {
    this.lines[i] = `${this.ids[i]}: ${text}`;
    if (this.tty) this.draw();
    else this.out.write(`${this.lines[i]}\n`);
  }

  end() {
    if (this.tty) this.draw();
  }

  private draw() {
    this.last = Date.now();
    if (this.drawn) this.out.write(`\x1b[${this.drawn}A`);
    this.out.write(this.lines.map((l) => `\x1b[2K${l}\n`).join(''));
    this.drawn = this.lines.length;
  }
}
