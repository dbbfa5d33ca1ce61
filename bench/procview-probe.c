// bench/procview.ts's probe, run inside containers and on the host (static: a busybox rootfs
// has no libc): the cost of reading a /proc file and of sysinfo(2), and what a program that
// sizes itself sees.
//   probe read PATH N   → microseconds per open+read+close of PATH (the whole file), N times
//   probe sysinfo N     → microseconds per sysinfo(2)
//   probe sizes         → what glibc and the kernel tell a program about its machine
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/sysinfo.h>

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

int main(int argc, char **argv) {
  static char buf[1 << 18];
  if (argc == 4 && !strcmp(argv[1], "read")) {
    int n = atoi(argv[3]);
    double t0 = now_us();
    for (int i = 0; i < n; i++) {
      int fd = open(argv[2], O_RDONLY);
      if (fd < 0) { perror(argv[2]); return 1; }
      while (read(fd, buf, sizeof buf) > 0) {}
      close(fd);
    }
    printf("%.2f\n", (now_us() - t0) / n);
    return 0;
  }
  if (argc == 3 && !strcmp(argv[1], "sysinfo")) {
    int n = atoi(argv[2]);
    struct sysinfo si;
    double t0 = now_us();
    for (int i = 0; i < n; i++) if (sysinfo(&si) != 0) { perror("sysinfo"); return 1; }
    printf("%.2f\n", (now_us() - t0) / n);
    return 0;
  }
  if (argc == 2 && !strcmp(argv[1], "sizes")) {
    struct sysinfo si;
    if (sysinfo(&si) != 0) { perror("sysinfo"); return 1; }
    printf("nprocs_onln=%ld phys_mib=%lld sysinfo_totalram_mib=%llu uptime_s=%ld procs=%u\n",
      sysconf(_SC_NPROCESSORS_ONLN), (long long)sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE) >> 20,
      (unsigned long long)si.totalram * si.mem_unit >> 20, si.uptime, si.procs);
    return 0;
  }
  fprintf(stderr, "usage: probe read PATH N | sysinfo N | sizes\n");
  return 2;
}
