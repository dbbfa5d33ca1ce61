export {}; // placeholder so the build resolves require('./lib/library'): the library itself comes from another branch
