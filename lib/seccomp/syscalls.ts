// Syscall numbers by name, per architecture, as the kernel puts them in seccomp_data.nr.
//
// Source: libseccomp src/syscalls.csv at commit 90d3f7d6f52dbf0f4a38ebd0657032b6ef05e6a
// (github.com/seccomp/libseccomp master after v2.6.1; the CSV's tables are from Linux
// v7.1-rc4), turned into the block below by scripts/seccomp-syscalls.ts. Cross-checked
// against the Linux 6.1 UAPI headers (asm/unistd_64.h, unistd_32.h, unistd_x32.h,
// asm-generic/unistd.h as arm64 builds it): every number there matches; ARM's against the
// kernel's arch/arm/tools/syscall.tbl (0..401, by sample).
//
// What each table holds:
// - X86_64: the x86_64 table's "common" and "64" entries.
// - X86: i386 (syscall_32.tbl); the socket calls also have their direct numbers (since 4.3).
// - X32: the x86_64 table's "common" and "x32" entries (x32's own are 512..547); the text
//   keeps them without __X32_SYSCALL_BIT (0x40000000), which the parser adds: an x32 task's
//   seccomp_data.nr carries it.
// - AARCH64: the asm-generic numbering as arm64 builds it (renameat, rlimit, memfd_secret).
// - ARM: 32-bit EABI numbers (no 0x900000 OABI base; OABI-only calls such as socketcall,
//   ipc, time or umount are not there), plus ARM's private calls at 0x0f0000 + n
//   (breakpoint, cacheflush, usr26, usr32, set_tls, get_tls), which reach seccomp as such.
// Names of calls the kernel removed but whose numbers stay reserved (lookup_dcookie, …)
// are kept, as libseccomp keeps them.
//
// Format: one template string per arch, parsed on first use. Each line starts with a
// number, the number of the line's first name; each further name has the next number. The
// calls numbered 424..511, which the kernel gives every architecture alike, are written
// once (`shared`) and appended to each arch whose numbers for them agree.

import type { SeccompArch } from './types';

const X32_SYSCALL_BIT = 0x40000000;

const cache = new Map<SeccompArch, ReadonlyMap<string, number>>();

/** Name → number for one architecture (a complete table; parsed once, then cached). */
export function syscallNumbers(arch: SeccompArch): ReadonlyMap<string, number> {
  let map = cache.get(arch);
  if (!map) {
    map = parse(tableText(arch), arch === 'SCMP_ARCH_X32' ? X32_SYSCALL_BIT : 0);
    cache.set(arch, map);
  }
  return map;
}

function parse(text: string, bit: number): Map<string, number> {
  const map = new Map<string, number>();
  let nr = 0;
  for (const token of text.split(/\s+/)) {
    if (token === '') continue;
    const c = token.charCodeAt(0);
    if (c >= 48 && c <= 57) nr = Number(token);           // a digit: "435" or "0xf0001"
    else map.set(token, (nr++ | bit) >>> 0);
  }
  return map;
}

// generated: begin (by scripts/seccomp-syscalls.ts; the CSV says: v7.1.0-rc4 2026-05-19)
function tableText(arch: SeccompArch): string {
  const shared = `
424 pidfd_send_signal io_uring_setup io_uring_enter io_uring_register open_tree move_mount fsopen
431 fsconfig fsmount fspick pidfd_open clone3 close_range openat2 pidfd_getfd faccessat2
440 process_madvise epoll_pwait2 mount_setattr quotactl_fd landlock_create_ruleset landlock_add_rule
446 landlock_restrict_self memfd_secret process_mrelease futex_waitv set_mempolicy_home_node
451 cachestat fchmodat2 map_shadow_stack futex_wake futex_wait futex_requeue statmount listmount
459 lsm_get_self_attr lsm_set_self_attr lsm_list_modules mseal setxattrat getxattrat listxattrat
466 removexattrat open_tree_attr file_getattr file_setattr listns rseq_slice_yield
`;
  switch (arch) {
    case 'SCMP_ARCH_X86_64': return `
0 read write open close stat fstat lstat poll lseek mmap mprotect munmap brk rt_sigaction
14 rt_sigprocmask rt_sigreturn ioctl pread64 pwrite64 readv writev access pipe select sched_yield
25 mremap msync mincore madvise shmget shmat shmctl dup dup2 pause nanosleep getitimer alarm
38 setitimer getpid sendfile socket connect accept sendto recvfrom sendmsg recvmsg shutdown bind
50 listen getsockname getpeername socketpair setsockopt getsockopt clone fork vfork execve exit
61 wait4 kill uname semget semop semctl shmdt msgget msgsnd msgrcv msgctl fcntl flock fsync
75 fdatasync truncate ftruncate getdents getcwd chdir fchdir rename mkdir rmdir creat link unlink
88 symlink readlink chmod fchmod chown fchown lchown umask gettimeofday getrlimit getrusage sysinfo
100 times ptrace getuid syslog getgid setuid setgid geteuid getegid setpgid getppid getpgrp setsid
113 setreuid setregid getgroups setgroups setresuid getresuid setresgid getresgid getpgid setfsuid
123 setfsgid getsid capget capset rt_sigpending rt_sigtimedwait rt_sigqueueinfo rt_sigsuspend
131 sigaltstack utime mknod uselib personality ustat statfs fstatfs sysfs getpriority setpriority
142 sched_setparam sched_getparam sched_setscheduler sched_getscheduler sched_get_priority_max
147 sched_get_priority_min sched_rr_get_interval mlock munlock mlockall munlockall vhangup
154 modify_ldt pivot_root _sysctl prctl arch_prctl adjtimex setrlimit chroot sync acct settimeofday
165 mount umount2 swapon swapoff reboot sethostname setdomainname iopl ioperm create_module
175 init_module delete_module get_kernel_syms query_module quotactl nfsservctl getpmsg putpmsg
183 afs_syscall tuxcall security gettid readahead setxattr lsetxattr fsetxattr getxattr lgetxattr
193 fgetxattr listxattr llistxattr flistxattr removexattr lremovexattr fremovexattr tkill time futex
203 sched_setaffinity sched_getaffinity set_thread_area io_setup io_destroy io_getevents io_submit
210 io_cancel get_thread_area lookup_dcookie epoll_create epoll_ctl_old epoll_wait_old
216 remap_file_pages getdents64 set_tid_address restart_syscall semtimedop fadvise64 timer_create
223 timer_settime timer_gettime timer_getoverrun timer_delete clock_settime clock_gettime
229 clock_getres clock_nanosleep exit_group epoll_wait epoll_ctl tgkill utimes vserver mbind
238 set_mempolicy get_mempolicy mq_open mq_unlink mq_timedsend mq_timedreceive mq_notify
245 mq_getsetattr kexec_load waitid add_key request_key keyctl ioprio_set ioprio_get inotify_init
254 inotify_add_watch inotify_rm_watch migrate_pages openat mkdirat mknodat fchownat futimesat
262 newfstatat unlinkat renameat linkat symlinkat readlinkat fchmodat faccessat pselect6 ppoll
272 unshare set_robust_list get_robust_list splice tee sync_file_range vmsplice move_pages utimensat
281 epoll_pwait signalfd timerfd_create eventfd fallocate timerfd_settime timerfd_gettime accept4
289 signalfd4 eventfd2 epoll_create1 dup3 pipe2 inotify_init1 preadv pwritev rt_tgsigqueueinfo
298 perf_event_open recvmmsg fanotify_init fanotify_mark prlimit64 name_to_handle_at
304 open_by_handle_at clock_adjtime syncfs sendmmsg setns getcpu process_vm_readv process_vm_writev
312 kcmp finit_module sched_setattr sched_getattr renameat2 seccomp getrandom memfd_create
320 kexec_file_load bpf execveat userfaultfd membarrier mlock2 copy_file_range preadv2 pwritev2
329 pkey_mprotect pkey_alloc pkey_free statx io_pgetevents rseq uretprobe uprobe
` + shared;
    case 'SCMP_ARCH_X86': return `
0 restart_syscall exit fork read write open close waitpid creat link unlink execve chdir time mknod
15 chmod lchown break oldstat lseek getpid mount umount setuid getuid stime ptrace alarm oldfstat
29 pause utime stty gtty access nice ftime sync kill rename mkdir rmdir dup pipe times prof brk
46 setgid getgid signal geteuid getegid acct umount2 lock ioctl fcntl mpx setpgid ulimit oldolduname
60 umask chroot ustat dup2 getppid getpgrp setsid sigaction sgetmask ssetmask setreuid setregid
72 sigsuspend sigpending sethostname setrlimit getrlimit getrusage gettimeofday settimeofday
80 getgroups setgroups select symlink oldlstat readlink uselib swapon reboot readdir mmap munmap
92 truncate ftruncate fchmod fchown getpriority setpriority profil statfs fstatfs ioperm socketcall
103 syslog setitimer getitimer stat lstat fstat olduname iopl vhangup idle vm86old wait4 swapoff
116 sysinfo ipc fsync sigreturn clone setdomainname uname modify_ldt adjtimex mprotect sigprocmask
127 create_module init_module delete_module get_kernel_syms quotactl getpgid fchdir bdflush sysfs
136 personality afs_syscall setfsuid setfsgid _llseek getdents _newselect flock msync readv writev
147 getsid fdatasync _sysctl mlock munlock mlockall munlockall sched_setparam sched_getparam
156 sched_setscheduler sched_getscheduler sched_yield sched_get_priority_max sched_get_priority_min
161 sched_rr_get_interval nanosleep mremap setresuid getresuid vm86 query_module poll nfsservctl
170 setresgid getresgid prctl rt_sigreturn rt_sigaction rt_sigprocmask rt_sigpending rt_sigtimedwait
178 rt_sigqueueinfo rt_sigsuspend pread64 pwrite64 chown getcwd capget capset sigaltstack sendfile
188 getpmsg putpmsg vfork ugetrlimit mmap2 truncate64 ftruncate64 stat64 lstat64 fstat64 lchown32
199 getuid32 getgid32 geteuid32 getegid32 setreuid32 setregid32 getgroups32 setgroups32 fchown32
208 setresuid32 getresuid32 setresgid32 getresgid32 chown32 setuid32 setgid32 setfsuid32 setfsgid32
217 pivot_root mincore madvise getdents64 fcntl64
224 gettid readahead setxattr lsetxattr fsetxattr getxattr lgetxattr fgetxattr listxattr llistxattr
234 flistxattr removexattr lremovexattr fremovexattr tkill sendfile64 futex sched_setaffinity
242 sched_getaffinity set_thread_area get_thread_area io_setup io_destroy io_getevents io_submit
249 io_cancel fadvise64
252 exit_group lookup_dcookie epoll_create epoll_ctl epoll_wait remap_file_pages set_tid_address
259 timer_create timer_settime timer_gettime timer_getoverrun timer_delete clock_settime
265 clock_gettime clock_getres clock_nanosleep statfs64 fstatfs64 tgkill utimes fadvise64_64 vserver
274 mbind get_mempolicy set_mempolicy mq_open mq_unlink mq_timedsend mq_timedreceive mq_notify
282 mq_getsetattr kexec_load waitid
286 add_key request_key keyctl ioprio_set ioprio_get inotify_init inotify_add_watch inotify_rm_watch
294 migrate_pages openat mkdirat mknodat fchownat futimesat fstatat64 unlinkat renameat linkat
304 symlinkat readlinkat fchmodat faccessat pselect6 ppoll unshare set_robust_list get_robust_list
313 splice sync_file_range tee vmsplice move_pages getcpu epoll_pwait utimensat signalfd
322 timerfd_create eventfd fallocate timerfd_settime timerfd_gettime signalfd4 eventfd2
329 epoll_create1 dup3 pipe2 inotify_init1 preadv pwritev rt_tgsigqueueinfo perf_event_open recvmmsg
338 fanotify_init fanotify_mark prlimit64 name_to_handle_at open_by_handle_at clock_adjtime syncfs
345 sendmmsg setns process_vm_readv process_vm_writev kcmp finit_module sched_setattr sched_getattr
353 renameat2 seccomp getrandom memfd_create bpf execveat socket socketpair bind connect listen
364 accept4 getsockopt setsockopt getsockname getpeername sendto sendmsg recvfrom recvmsg shutdown
374 userfaultfd membarrier mlock2 copy_file_range preadv2 pwritev2 pkey_mprotect pkey_alloc
382 pkey_free statx arch_prctl io_pgetevents rseq
393 semget semctl shmget shmctl shmat shmdt msgget msgsnd msgrcv msgctl clock_gettime64
404 clock_settime64 clock_adjtime64 clock_getres_time64 clock_nanosleep_time64 timer_gettime64
409 timer_settime64 timerfd_gettime64 timerfd_settime64 utimensat_time64 pselect6_time64
414 ppoll_time64
416 io_pgetevents_time64 recvmmsg_time64 mq_timedsend_time64 mq_timedreceive_time64
420 semtimedop_time64 rt_sigtimedwait_time64 futex_time64 sched_rr_get_interval_time64
` + shared;
    case 'SCMP_ARCH_X32': return `
0 read write open close stat fstat lstat poll lseek mmap mprotect munmap brk
14 rt_sigprocmask
17 pread64 pwrite64
21 access pipe select sched_yield mremap msync mincore madvise shmget shmat shmctl dup dup2 pause
35 nanosleep getitimer alarm setitimer getpid sendfile socket connect accept sendto
48 shutdown bind listen getsockname getpeername socketpair
56 clone fork vfork
60 exit wait4 kill uname semget semop semctl shmdt msgget msgsnd msgrcv msgctl fcntl flock fsync
75 fdatasync truncate ftruncate getdents getcwd chdir fchdir rename mkdir rmdir creat link unlink
88 symlink readlink chmod fchmod chown fchown lchown umask gettimeofday getrlimit getrusage sysinfo
100 times
102 getuid syslog getgid setuid setgid geteuid getegid setpgid getppid getpgrp setsid setreuid
114 setregid getgroups setgroups setresuid getresuid setresgid getresgid getpgid setfsuid setfsgid
124 getsid capget capset
130 rt_sigsuspend
132 utime mknod
135 personality ustat statfs fstatfs sysfs getpriority setpriority sched_setparam sched_getparam
144 sched_setscheduler sched_getscheduler sched_get_priority_max sched_get_priority_min
148 sched_rr_get_interval mlock munlock mlockall munlockall vhangup modify_ldt pivot_root
157 prctl arch_prctl adjtimex setrlimit chroot sync acct settimeofday mount umount2 swapon swapoff
169 reboot sethostname setdomainname iopl ioperm
175 init_module delete_module
179 quotactl
181 getpmsg putpmsg afs_syscall tuxcall security gettid readahead setxattr lsetxattr fsetxattr
191 getxattr lgetxattr fgetxattr listxattr llistxattr flistxattr removexattr lremovexattr
199 fremovexattr tkill time futex sched_setaffinity sched_getaffinity
207 io_destroy io_getevents
210 io_cancel
212 lookup_dcookie epoll_create
216 remap_file_pages getdents64 set_tid_address restart_syscall semtimedop fadvise64
223 timer_settime timer_gettime timer_getoverrun timer_delete clock_settime clock_gettime
229 clock_getres clock_nanosleep exit_group epoll_wait epoll_ctl tgkill utimes
237 mbind set_mempolicy get_mempolicy mq_open mq_unlink mq_timedsend mq_timedreceive
245 mq_getsetattr
248 add_key request_key keyctl ioprio_set ioprio_get inotify_init inotify_add_watch inotify_rm_watch
256 migrate_pages openat mkdirat mknodat fchownat futimesat newfstatat unlinkat renameat linkat
266 symlinkat readlinkat fchmodat faccessat pselect6 ppoll unshare
275 splice tee sync_file_range
280 utimensat epoll_pwait signalfd timerfd_create eventfd fallocate timerfd_settime timerfd_gettime
288 accept4 signalfd4 eventfd2 epoll_create1 dup3 pipe2 inotify_init1
298 perf_event_open
300 fanotify_init fanotify_mark prlimit64 name_to_handle_at open_by_handle_at clock_adjtime syncfs
308 setns getcpu
312 kcmp finit_module sched_setattr sched_getattr renameat2 seccomp getrandom memfd_create
320 kexec_file_load bpf
323 userfaultfd membarrier mlock2 copy_file_range
329 pkey_mprotect pkey_alloc pkey_free statx io_pgetevents rseq uretprobe uprobe
512 rt_sigaction rt_sigreturn ioctl readv writev recvfrom sendmsg recvmsg execve ptrace
522 rt_sigpending rt_sigtimedwait rt_sigqueueinfo sigaltstack timer_create mq_notify kexec_load
529 waitid set_robust_list get_robust_list vmsplice move_pages preadv pwritev rt_tgsigqueueinfo
537 recvmmsg sendmmsg process_vm_readv process_vm_writev setsockopt getsockopt io_setup io_submit
545 execveat preadv2 pwritev2
` + shared;
    case 'SCMP_ARCH_AARCH64': return `
0 io_setup io_destroy io_submit io_cancel io_getevents setxattr lsetxattr fsetxattr getxattr
9 lgetxattr fgetxattr listxattr llistxattr flistxattr removexattr lremovexattr fremovexattr getcwd
18 lookup_dcookie eventfd2 epoll_create1 epoll_ctl epoll_pwait dup dup3 fcntl inotify_init1
27 inotify_add_watch inotify_rm_watch ioctl ioprio_set ioprio_get flock mknodat mkdirat unlinkat
36 symlinkat linkat renameat umount2 mount pivot_root nfsservctl statfs fstatfs truncate ftruncate
47 fallocate faccessat chdir fchdir chroot fchmod fchmodat fchownat fchown openat close vhangup
59 pipe2 quotactl getdents64 lseek read write readv writev pread64 pwrite64 preadv pwritev sendfile
72 pselect6 ppoll signalfd4 vmsplice splice tee readlinkat newfstatat fstat sync fsync fdatasync
84 sync_file_range timerfd_create timerfd_settime timerfd_gettime utimensat acct capget capset
92 personality exit exit_group waitid set_tid_address unshare futex set_robust_list get_robust_list
101 nanosleep getitimer setitimer kexec_load init_module delete_module timer_create timer_gettime
109 timer_getoverrun timer_settime timer_delete clock_settime clock_gettime clock_getres
115 clock_nanosleep syslog ptrace sched_setparam sched_setscheduler sched_getscheduler
121 sched_getparam sched_setaffinity sched_getaffinity sched_yield sched_get_priority_max
126 sched_get_priority_min sched_rr_get_interval restart_syscall kill tkill tgkill sigaltstack
133 rt_sigsuspend rt_sigaction rt_sigprocmask rt_sigpending rt_sigtimedwait rt_sigqueueinfo
139 rt_sigreturn setpriority getpriority reboot setregid setgid setreuid setuid setresuid getresuid
149 setresgid getresgid setfsuid setfsgid times setpgid getpgid getsid setsid getgroups setgroups
160 uname sethostname setdomainname getrlimit setrlimit getrusage umask prctl getcpu gettimeofday
170 settimeofday adjtimex getpid getppid getuid geteuid getgid getegid gettid sysinfo mq_open
181 mq_unlink mq_timedsend mq_timedreceive mq_notify mq_getsetattr msgget msgctl msgrcv msgsnd
190 semget semctl semtimedop semop shmget shmctl shmat shmdt socket socketpair bind listen accept
203 connect getsockname getpeername sendto recvfrom setsockopt getsockopt shutdown sendmsg recvmsg
213 readahead brk munmap mremap add_key request_key keyctl clone execve mmap fadvise64 swapon
225 swapoff mprotect msync mlock munlock mlockall munlockall mincore madvise remap_file_pages mbind
236 get_mempolicy set_mempolicy migrate_pages move_pages rt_tgsigqueueinfo perf_event_open accept4
243 recvmmsg
260 wait4 prlimit64 fanotify_init fanotify_mark name_to_handle_at open_by_handle_at clock_adjtime
267 syncfs setns sendmmsg process_vm_readv process_vm_writev kcmp finit_module sched_setattr
275 sched_getattr renameat2 seccomp getrandom memfd_create bpf execveat userfaultfd membarrier
284 mlock2 copy_file_range preadv2 pwritev2 pkey_mprotect pkey_alloc pkey_free statx io_pgetevents
293 rseq kexec_file_load
` + shared;
    case 'SCMP_ARCH_ARM': return `
0 restart_syscall exit fork read write open close
8 creat link unlink execve chdir
14 mknod chmod lchown
19 lseek getpid mount
23 setuid getuid
26 ptrace
29 pause
33 access nice
36 sync kill rename mkdir rmdir dup pipe times
45 brk setgid getgid
49 geteuid getegid acct umount2
54 ioctl fcntl
57 setpgid
60 umask chroot ustat dup2 getppid getpgrp setsid sigaction
70 setreuid setregid sigsuspend sigpending sethostname setrlimit
77 getrusage gettimeofday settimeofday getgroups setgroups
83 symlink
85 readlink uselib swapon reboot
91 munmap truncate ftruncate fchmod fchown getpriority setpriority
99 statfs fstatfs
103 syslog setitimer getitimer stat lstat fstat
111 vhangup
114 wait4 swapoff sysinfo
118 fsync sigreturn clone setdomainname uname
124 adjtimex mprotect sigprocmask
128 init_module delete_module
131 quotactl getpgid fchdir bdflush sysfs personality
138 setfsuid setfsgid _llseek getdents _newselect flock msync readv writev getsid fdatasync _sysctl
150 mlock munlock mlockall munlockall sched_setparam sched_getparam sched_setscheduler
157 sched_getscheduler sched_yield sched_get_priority_max sched_get_priority_min
161 sched_rr_get_interval nanosleep mremap setresuid getresuid
168 poll nfsservctl setresgid getresgid prctl rt_sigreturn rt_sigaction rt_sigprocmask rt_sigpending
177 rt_sigtimedwait rt_sigqueueinfo rt_sigsuspend pread64 pwrite64 chown getcwd capget capset
186 sigaltstack sendfile
190 vfork ugetrlimit mmap2 truncate64 ftruncate64 stat64 lstat64 fstat64 lchown32 getuid32 getgid32
201 geteuid32 getegid32 setreuid32 setregid32 getgroups32 setgroups32 fchown32 setresuid32
209 getresuid32 setresgid32 getresgid32 chown32 setuid32 setgid32 setfsuid32 setfsgid32 getdents64
218 pivot_root mincore madvise fcntl64
224 gettid readahead setxattr lsetxattr fsetxattr getxattr lgetxattr fgetxattr listxattr llistxattr
234 flistxattr removexattr lremovexattr fremovexattr tkill sendfile64 futex sched_setaffinity
242 sched_getaffinity io_setup io_destroy io_getevents io_submit io_cancel exit_group lookup_dcookie
250 epoll_create epoll_ctl epoll_wait remap_file_pages
256 set_tid_address timer_create timer_settime timer_gettime timer_getoverrun timer_delete
262 clock_settime clock_gettime clock_getres clock_nanosleep statfs64 fstatfs64 tgkill utimes
270 arm_fadvise64_64 pciconfig_iobase pciconfig_read pciconfig_write mq_open mq_unlink mq_timedsend
277 mq_timedreceive mq_notify mq_getsetattr waitid socket bind connect listen accept getsockname
287 getpeername socketpair send sendto recv recvfrom shutdown setsockopt getsockopt sendmsg recvmsg
298 semop semget semctl msgsnd msgrcv msgget msgctl shmat shmdt shmget shmctl add_key request_key
311 keyctl semtimedop vserver ioprio_set ioprio_get inotify_init inotify_add_watch inotify_rm_watch
319 mbind get_mempolicy set_mempolicy openat mkdirat mknodat fchownat futimesat fstatat64 unlinkat
329 renameat linkat symlinkat readlinkat fchmodat faccessat pselect6 ppoll unshare set_robust_list
339 get_robust_list splice arm_sync_file_range tee vmsplice move_pages getcpu epoll_pwait kexec_load
348 utimensat signalfd timerfd_create eventfd fallocate timerfd_settime timerfd_gettime signalfd4
356 eventfd2 epoll_create1 dup3 pipe2 inotify_init1 preadv pwritev rt_tgsigqueueinfo perf_event_open
365 recvmmsg accept4 fanotify_init fanotify_mark prlimit64 name_to_handle_at open_by_handle_at
372 clock_adjtime syncfs sendmmsg setns process_vm_readv process_vm_writev kcmp finit_module
380 sched_setattr sched_getattr renameat2 seccomp getrandom memfd_create bpf execveat userfaultfd
389 membarrier mlock2 copy_file_range preadv2 pwritev2 pkey_mprotect pkey_alloc pkey_free statx rseq
399 io_pgetevents migrate_pages kexec_file_load
403 clock_gettime64 clock_settime64 clock_adjtime64 clock_getres_time64 clock_nanosleep_time64
408 timer_gettime64 timer_settime64 timerfd_gettime64 timerfd_settime64 utimensat_time64
413 pselect6_time64 ppoll_time64
416 io_pgetevents_time64 recvmmsg_time64 mq_timedsend_time64 mq_timedreceive_time64
420 semtimedop_time64 rt_sigtimedwait_time64 futex_time64 sched_rr_get_interval_time64
424 pidfd_send_signal io_uring_setup io_uring_enter io_uring_register open_tree move_mount fsopen
431 fsconfig fsmount fspick pidfd_open clone3 close_range openat2 pidfd_getfd faccessat2
440 process_madvise epoll_pwait2 mount_setattr quotactl_fd landlock_create_ruleset landlock_add_rule
446 landlock_restrict_self
448 process_mrelease futex_waitv set_mempolicy_home_node cachestat fchmodat2 map_shadow_stack
454 futex_wake futex_wait futex_requeue statmount listmount lsm_get_self_attr lsm_set_self_attr
461 lsm_list_modules mseal setxattrat getxattrat listxattrat removexattrat open_tree_attr
468 file_getattr file_setattr listns rseq_slice_yield
0xf0001 breakpoint cacheflush usr26 usr32 set_tls get_tls
`;
    default: throw new Error(`seccomp: no syscall table for ${String(arch)}`);
  }
}
// generated: end
