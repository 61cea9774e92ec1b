/* One system call run inside a ptrace-stopped thread of another process, safe against our own death at any moment. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal/internal.h"
#include "internal/inject.h"
#include "internal/capture_impl.h"
#include <memlens/maps.h>

#define IJ_GETREGS 12
#define IJ_SETREGS 13
#define IJ_SYSCALL 24
#define IJ_DETACH 17
#define IJ_SETOPTIONS 0x4200
#define IJ_GETEVENTMSG 0x4201
#define IJ_GETREGSET 0x4204
#define IJ_SEIZE 0x4206
#define IJ_INTERRUPT 0x4207
#define IJ_GETSIGMASK 0x420a
#define IJ_SETSIGMASK 0x420b
#define IJ_GET_RSEQ_CONFIGURATION 0x420f
#define IJ_GET_SUD_CONFIG 0x4211 /* PTRACE_GET_SYSCALL_USER_DISPATCH_CONFIG, Linux 6.4 (0x4210 sets it) */
#define IJ_O_TRACESYSGOOD 0x1
#define IJ_O_TRACECLONE 0x8
#define IJ_O_EXITKILL 0x100000
#define IJ_EVENT_CLONE 3
#define IJ_EVENT_STOP 128

#define USER_CS64 0x33
#define ERESTARTSYS_ 512
#define ERESTARTNOINTR_ 513
#define ERESTARTNOHAND_ 514
#define ERESTART_RESTARTBLOCK_ 516
#define NR_exit_group 231

static long pt(int req, pid_t tid, uint64_t addr, uint64_t data)
{
	return ptrace((enum __ptrace_request)req, tid, (void *)(uintptr_t)addr, (void *)(uintptr_t)data);
}

/* ---- test hook ---- */

/* Tests define ml__test_hook() to act at each step (die, send a signal, look at the
 * thread); in the library it is an unresolved weak symbol, so the call is never made. */
void ml__inject_step(int step, pid_t tid)
{
	if (ml__test_hook)
		ml__test_hook(step, tid);
}

/* ---- gadgets ---- */

/* "syscall", then only xor r32,r32 of a register with itself (with or without REX), then "ret". */
static bool is_sys_ret(const unsigned char *b, size_t avail)
{
	if (avail < 3 || b[0] != 0x0f || b[1] != 0x05)
		return false;
	size_t i = 2;
	for (int n = 0; n < 16 && i < avail; n++) {
		if (b[i] == 0xc3)
			return true;
		size_t j = i;
		if (b[j] == 0x45 || b[j] == 0x48 || b[j] == 0x4d)
			j++;
		if (j + 1 >= avail || b[j] != 0x31)
			return false;
		unsigned m = b[j + 1];
		if ((m >> 6) != 3 || ((m >> 3) & 7) != (m & 7))
			return false;
		i = j + 2;
	}
	return false;
}

static bool self_vdso(uint64_t *s, uint64_t *e)
{
	ml_proc *self;
	ml_maps *m;
	bool ok = false;
	if (ml_proc_self(&self) < 0)
		return false;
	if (ml_maps_read(self, ML_MAPS_TEXT, &m) == 0) {
		for (size_t i = 0; i < ml_maps_count(m) && !ok; i++) {
			const ml_vma *v = ml_maps_get(m, i);
			if (v->kind == ML_VMA_VDSO) {
				*s = v->start;
				*e = v->end;
				ok = true;
			}
		}
		ml_maps_free(m);
	}
	ml_proc_free(self);
	return ok;
}

static const unsigned char sigret_a[] = { 0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05 };
static const unsigned char sigret_b[] = { 0xb8, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05 };

/* Searches an executable file mapping for the signal-return trampoline, in the file (nothing of the target is read). */
static bool find_sigreturn(const ml_proc *p, const ml_vma *v, uint64_t *at)
{
	char name[64];
	snprintf(name, sizeof(name), "map_files/%llx-%llx", (unsigned long long)v->start, (unsigned long long)v->end);
	int fd = ml_proc_openat(p, name, O_RDONLY);
	if (fd < 0 && v->name_len && v->name[0] == '/') {
		fd = open(v->name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		struct stat st;
		if (fd >= 0 && (fstat(fd, &st) < 0 || st.st_ino != v->inode)) {
			close(fd);
			fd = -1;
		}
	}
	if (fd < 0)
		return false;
	bool found = false;
	size_t len = (size_t)ML_MIN(v->end - v->start, (uint64_t)(64u << 20));
	unsigned char *buf = malloc(1u << 20);
	for (size_t off = 0; buf && off < len && !found;) {
		size_t want = ML_MIN((size_t)(1u << 20), len - off);
		ssize_t n = pread(fd, buf, want, (off_t)(v->offset + off));
		if (n <= (ssize_t)sizeof(sigret_a))
			break;
		for (size_t k = 0; k + sizeof(sigret_a) <= (size_t)n && !found; k++) {
			if (!memcmp(buf + k, sigret_a, sizeof(sigret_a)) || !memcmp(buf + k, sigret_b, sizeof(sigret_b))) {
				*at = v->start + off + k;
				found = true;
			}
		}
		off += (size_t)n - sizeof(sigret_a); /* overlap so a pattern across reads is found */
	}
	free(buf);
	close(fd);
	return found;
}

static bool name_has(const ml_vma *v, const char *s)
{
	return v->name_len && memmem(v->name, v->name_len, s, strlen(s)) != NULL;
}

int ml__gadgets_find(const ml_proc *p, ml__gadgets *g, const char **why)
{
	memset(g, 0, sizeof(*g));
	ml_maps *m;
	int r = ml_maps_read(p, ML_MAPS_TEXT, &m);
	if (r < 0)
		return r;
	uint64_t s0 = 0, e0 = 0;
	const ml_vma *vd = NULL;
	for (size_t i = 0; i < ml_maps_count(m); i++)
		if (ml_maps_get(m, i)->kind == ML_VMA_VDSO)
			vd = ml_maps_get(m, i);
	/* Our [vdso] is the same image as the target's when it has the same size (one kernel). */
	if (vd && self_vdso(&s0, &e0) && e0 - s0 == vd->end - vd->start) {
		const unsigned char *b = (const unsigned char *)(uintptr_t)s0;
		size_t len = (size_t)(e0 - s0);
		for (size_t k = 0; k + 2 < len && !g->sys_ret; k++)
			if (b[k] == 0x0f && b[k + 1] == 0x05 && is_sys_ret(b + k, len - k))
				g->sys_ret = vd->start + k;
		g->vdso_start = vd->start;
		g->vdso_end = vd->end;
	}
	/* The C library first (glibc, musl), then the program, then the rest. */
	for (int pass = 0; pass < 3 && !g->sigreturn; pass++) {
		for (size_t i = 0; i < ml_maps_count(m) && !g->sigreturn; i++) {
			const ml_vma *v = ml_maps_get(m, i);
			if (!(v->perms & ML_PERM_EXEC) || v->kind != ML_VMA_FILE)
				continue;
			bool libc = name_has(v, "/libc.so") || name_has(v, "/libc-") || name_has(v, "ld-musl");
			bool prog = v == ml_maps_get(m, 0) || (i > 0 && ml_maps_get(m, i - 1)->inode == v->inode);
			if ((pass == 0 && !libc) || (pass == 1 && (libc || !prog)) || (pass == 2 && (libc || prog)))
				continue;
			if (find_sigreturn(p, v, &g->sigreturn))
				g->sigreturn_inode = v->inode;
		}
	}
	ml_maps_free(m);
	if (!g->sys_ret) {
		*why = "no usable system-call instruction in its [vdso]";
		return -EOPNOTSUPP;
	}
	if (!g->sigreturn) {
		*why = "no signal-return trampoline in its executable mappings";
		return -EOPNOTSUPP;
	}
	return 0;
}

/* ---- the signal frame ---- */

/* x86_64 rt_sigframe: pretcode, then struct ucontext (uc_flags, uc_link, uc_stack, sigcontext, sigmask). */
#define F_PRETCODE 0
#define F_UC 8
#define UC_FLAGS 0
#define UC_STACK_FLAGS 24
#define UC_MCTX 40
#define UC_SIGMASK 296
#define FRAME_SIZE 440 /* with the siginfo after the ucontext */
#define UC_FP_XSTATE 1
#define UC_SIGCONTEXT_SS 2
#define UC_STRICT_RESTORE_SS 4

static void put64(unsigned char *b, size_t off, uint64_t v) { memcpy(b + off, &v, 8); }

/* sigcontext fields in kernel order, from user_regs_struct. */
static void put_mcontext(unsigned char *mc, const struct user_regs_struct *r, uint64_t fpstate)
{
	const uint64_t v[18] = { r->r8, r->r9, r->r10, r->r11, r->r12, r->r13, r->r14, r->r15, r->rdi,
				 r->rsi, r->rbp, r->rbx, r->rdx, r->rax, r->rcx, r->rsp, r->rip, r->eflags };
	memcpy(mc, v, sizeof(v));
	uint16_t seg[4] = { (uint16_t)r->cs, (uint16_t)r->gs, (uint16_t)r->fs, (uint16_t)r->ss };
	memcpy(mc + 144, seg, 8);
	put64(mc, 184, fpstate);
}

static void put_frame(unsigned char *f, uint64_t pretcode, const struct user_regs_struct *r, uint64_t fpstate,
		      uint64_t mask)
{
	memset(f, 0, FRAME_SIZE);
	put64(f, F_PRETCODE, pretcode);
	put64(f, F_UC + UC_FLAGS, (fpstate ? UC_FP_XSTATE : 0) | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS);
	/* An invalid mode: rt_sigreturn's sigaltstack() then fails and leaves the thread's own alone. */
	uint32_t bad = 4;
	memcpy(f + F_UC + UC_STACK_FLAGS, &bad, 4);
	put_mcontext(f + F_UC + UC_MCTX, r, fpstate);
	put64(f, F_UC + UC_SIGMASK, mask);
}

/* Standard-format size of the XSAVE features in @mask (CPUID leaf 0xD), at least the legacy area + header. */
static uint32_t xsave_size(uint64_t mask)
{
	uint64_t all;
	uint32_t size[64], off[64], n = 576;
	if (ml__xsave_cpu_layout(&all, size, off) < 0)
		return 512;
	for (unsigned i = 2; i < 64; i++)
		if ((mask >> i) & 1 && off[i] + size[i] > n)
			n = off[i] + size[i];
	return n;
}

/* ---- waiting for a stop ---- */

/* Waits for @tid's next stop: 0 and *status; -ESRCH it died. */
static int wait_stop(pid_t tid, int *status)
{
	for (;;) {
		pid_t w = waitpid(tid, status, __WALL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return errno == ECHILD ? -ESRCH : ml_neg_errno();
		}
		if (WIFSTOPPED(*status))
			return 0;
		return -ESRCH;
	}
}

/* Resumes @tid to its next system-call stop (entry or exit) or clone event, passing over
 * group stops (job control acts when it is let go). *stopped says whether it is in a stop
 * on return. Every signal but SIGKILL and SIGSTOP is blocked meanwhile: a SIGSTOP taken is
 * passed on (the kernel stops the group, the call goes on when we resume it); any other
 * signal-delivery stop is a fault of the injected code, never delivered: -EFAULT and *sig.
 * Returns 0 and *event; -ESRCH; -errno. */
static int next_stop(pid_t tid, int *event, int *sig, bool *stopped)
{
	int pass = 0;
	for (int guard = 0; guard < 1000; guard++) {
		if (pt(IJ_SYSCALL, tid, 0, (uint64_t)pass) < 0) {
			*stopped = errno != ESRCH;
			return ml_neg_errno();
		}
		pass = 0;
		*stopped = false;
		int st;
		int r = wait_stop(tid, &st);
		if (r < 0)
			return r;
		*stopped = true;
		int s = WSTOPSIG(st), ev = st >> 16;
		*event = ev;
		if (s == (SIGTRAP | 0x80) || ev == IJ_EVENT_CLONE)
			return 0;
		if (ev == 0 && s == SIGSTOP) {
			pass = SIGSTOP;
		} else if (ev == 0) {
			*sig = s;
			return -EFAULT;
		}
	}
	return -EIO;
}

/* ---- the injection ---- */

static int rw_target(pid_t pid, uint64_t addr, void *buf, size_t len, bool write)
{
	struct iovec l = { buf, len }, rv = { (void *)(uintptr_t)addr, len };
	ssize_t n = write ? process_vm_writev(pid, &l, 1, &rv, 1, 0) : process_vm_readv(pid, &l, 1, &rv, 1, 0);
	if (n == (ssize_t)len)
		return 0;
	return n < 0 && errno == ESRCH ? -ESRCH : -EFAULT;
}

/* The registers the frame returns to if we die mid-way (rt_sigreturn leaves no system call
 * to restart and forgets a restart block): a call interrupted with -ERESTART* is set up to
 * restart, one with a restart block returns EINTR. Only that path uses them: otherwise the
 * thread gets its own registers back and the kernel decides, as if nothing had happened. */
static void frame_regs(const struct user_regs_struct *c, struct user_regs_struct *out)
{
	*out = *c;
	long ax = (long)c->rax;
	if ((long)c->orig_rax >= 0) {
		if (ax == -ERESTARTSYS_ || ax == -ERESTARTNOINTR_ || ax == -ERESTARTNOHAND_) {
			out->rip -= 2;
			out->rax = c->orig_rax;
		} else if (ax == -ERESTART_RESTARTBLOCK_) {
			out->rax = (uint64_t)-EINTR;
		}
	}
	out->orig_rax = (uint64_t)-1;
}

/* Calls that run with a temporary signal mask and put the thread's own back on the way out
 * (TIF_RESTORE_SIGMASK): rt_sigsuspend, pselect6, ppoll, epoll_pwait, io_pgetevents,
 * io_uring_enter, epoll_pwait2. PTRACE_SETSIGMASK clears that flag, so a thread stopped
 * with the temporary mask still in place would keep it for good. (Linux 6.18 showed the
 * thread's own mask at such a stop; passing the thread over is a precaution.) */
static bool in_temp_mask_call(const struct user_regs_struct *c)
{
	static const long nrs[] = { 130, 270, 271, 281, 333, 426, 441 };
	long ax = (long)c->rax;
	if ((long)c->orig_rax < 0 || !(ax == -EINTR || (ax <= -ERESTARTSYS_ && ax >= -ERESTART_RESTARTBLOCK_)))
		return false;
	for (size_t i = 0; i < sizeof(nrs) / sizeof(nrs[0]); i++)
		if ((long)c->orig_rax == nrs[i])
			return true;
	return false;
}

/* rseq: a thread stopped inside a critical section has been preempted, so the kernel
 * aborts the section when it returns to user space. The injected call returns to user
 * space elsewhere first (the kernel then forgets the section), so the abort is done here,
 * as the kernel does it: the IP moves to the section's abort handler, whose signature is
 * checked. 0 (c->rip moved if it was in a section); -EOPNOTSUPP with @why; -errno. */
static int rseq_abort(pid_t tid, struct user_regs_struct *c, const char **why)
{
	struct {
		uint64_t abi;
		uint32_t size, sig, flags, pad;
	} conf;
	memset(&conf, 0, sizeof(conf));
	long n = pt(IJ_GET_RSEQ_CONFIGURATION, tid, sizeof(conf), (uint64_t)(uintptr_t)&conf);
	if (n < 0) {
		if (errno == ESRCH)
			return -ESRCH;
		*why = "its rseq state cannot be read (PTRACE_GET_RSEQ_CONFIGURATION, Linux 5.13)";
		return -EOPNOTSUPP;
	}
	if (!conf.abi)
		return 0; /* not registered */
	uint64_t csp = 0;
	struct {
		uint32_t version, flags;
		uint64_t start, len, abort;
	} cs;
	if (rw_target(tid, conf.abi + 8, &csp, 8, false) < 0) {
		*why = "its rseq area cannot be read";
		return -EOPNOTSUPP;
	}
	if (!csp)
		return 0;
	if (rw_target(tid, csp, &cs, sizeof(cs), false) < 0) {
		*why = "its rseq critical-section descriptor cannot be read";
		return -EOPNOTSUPP;
	}
	if (c->rip - cs.start >= cs.len)
		return 0; /* not inside: the kernel would only clear the pointer */
	uint32_t sig = 0;
	if (cs.abort - cs.start < cs.len || rw_target(tid, cs.abort - 4, &sig, 4, false) < 0 || sig != conf.sig) {
		*why = "it is inside an rseq critical section whose abort handler is not valid";
		return -EOPNOTSUPP;
	}
	c->rip = cs.abort;
	if (pt(IJ_SETREGS, tid, 0, (uint64_t)(uintptr_t)c) < 0)
		return ml_neg_errno();
	return 0;
}

/* The frame goes only on a thread's stack: [stack], or an anonymous private mapping with a
 * guard below it (a PROT_NONE mapping, as the C libraries put under a thread's stack, or a
 * guard region), never on a buffer that merely holds the stack pointer (a sigaltstack or a
 * coroutine's stack in the heap or in a plain mapping). */
static bool is_thread_stack(const ml_proc *p, const ml_maps *m, const ml_vma *sv)
{
	if (!(sv->perms & ML_PERM_WRITE) || (sv->perms & ML_PERM_SHARED))
		return false;
	if (sv->kind == ML_VMA_STACK)
		return true;
	if (sv->kind != ML_VMA_ANON)
		return false;
	for (size_t i = 1; i < ml_maps_count(m); i++) {
		const ml_vma *v = ml_maps_get(m, i), *pv = ml_maps_get(m, i - 1);
		if (v == sv && pv->end == sv->start && !(pv->perms & (ML_PERM_READ | ML_PERM_WRITE | ML_PERM_EXEC)) &&
		    !(pv->perms & ML_PERM_SHARED))
			return true;
	}
	/* A guard region (MADV_GUARD_INSTALL) at its lowest page: pagemap bit 58. */
	int fd = ml_proc_openat(p, "pagemap", O_RDONLY);
	uint64_t e = 0;
	bool guard = fd >= 0 && pread(fd, &e, 8, (off_t)(sv->start / 4096 * 8)) == 8 && (e >> 58 & 1);
	if (fd >= 0)
		close(fd);
	return guard;
}

/* Marks a held copy (see ML__COPY_OOM_ADJ); under memory pressure it also goes first, not the target. */
static int mark_copy(pid_t ch)
{
	char path[64], v[16];
	snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", (int)ch);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return ml_neg_errno();
	int n = snprintf(v, sizeof(v), "%d", ML__COPY_OOM_ADJ);
	int r = write(fd, v, (size_t)n) == n ? 0 : ml_neg_errno();
	close(fd);
	return r;
}

/*
 * What rules thread @tid out for any injected call, NULL if nothing known does. A seccomp
 * filter may refuse the call, trap it (SIGSYS) or kill the whole process; syscall user
 * dispatch (Wine) turns a call from outside its region into SIGSYS. Such a SIGSYS is
 * forced: with every signal blocked for the call, the kernel would reset the target's
 * handler to SIG_DFL, for good. The dispatch setting is read with ptrace (Linux 6.4); an
 * older kernel cannot tell, and its threads are taken as they are (docs/architecture.md).
 * The filter is checked here, in the stopped thread, because one may be installed after
 * any earlier check (the reaping comes after the whole read).
 */
const char *ml__inject_gate(const ml_proc *p, pid_t tid)
{
	char name[48], *st;
	size_t sl;
	snprintf(name, sizeof(name), "task/%d/status", (int)tid);
	if (ml_proc_read_file(p, name, &st, &sl) == 0) {
		uint64_t v;
		bool filtered = ml__status_num(st, sl, "Seccomp", false, &v) == 0 && v != 0;
		free(st);
		if (filtered)
			return "a thread runs under a seccomp filter (an injected call could be refused, or kill it)";
	}
	struct { uint64_t mode, selector, offset, len; } sud;
	if (pt(IJ_GET_SUD_CONFIG, tid, sizeof(sud), (uint64_t)(uintptr_t)&sud) == 0 && sud.mode != 0)
		return "a thread uses syscall user dispatch (an injected call would raise SIGSYS in it)";
	return NULL;
}

int ml__inject(const ml_proc *p, pid_t tid, const ml__gadgets *g, const ml__inject_req *rq,
	       ml__inject_res *res, const char **why)
{
	memset(res, 0, sizeof(*res));
	struct user_regs_struct c, inj, back, fb;
	if (pt(IJ_GETREGS, tid, 0, (uint64_t)(uintptr_t)&c) < 0)
		return errno == ESRCH ? -ESRCH : ml_neg_errno();
	ml__inject_step(0, tid);
	if (c.cs != USER_CS64) {
		*why = "it is a 32-bit program";
		return -EOPNOTSUPP;
	}
	if (in_temp_mask_call(&c)) {
		*why = "its thread waits with a temporary signal mask (sigsuspend, ppoll, pselect, epoll_pwait)";
		res->thread_refused = true;
		return -EOPNOTSUPP;
	}
	const char *gate = ml__inject_gate(p, tid);
	if (gate) {
		*why = gate;
		res->thread_refused = true;
		return -EOPNOTSUPP;
	}
	uint64_t mask = 0;
	if (pt(IJ_GETSIGMASK, tid, 8, (uint64_t)(uintptr_t)&mask) < 0)
		return ml_neg_errno();
	int r = rseq_abort(tid, &c, why);
	if (r < 0) {
		res->thread_refused = r == -EOPNOTSUPP;
		return r;
	}
	/* The vector state, for the frame: XSAVE layout with the signal-frame software bytes. */
	unsigned char *xs = calloc(1, 65536 + 64);
	if (!xs)
		return -ENOMEM;
	struct iovec iov = { xs, 65536 };
	uint32_t xlen = 0;
	uint64_t xmask = 0;
	if (pt(IJ_GETREGSET, tid, ML__NT_X86_XSTATE, (uint64_t)(uintptr_t)&iov) == 0 && iov.iov_len >= 576) {
		memcpy(&xmask, xs + 464, 8);
		xmask &= ~(1ull << 18); /* AMX tile data is not in a default signal frame */
		xlen = xsave_size(xmask);
		if (xlen > iov.iov_len)
			xlen = 0;
	}
	struct iovec fiov = { xs, 512 };
	if (!xlen && pt(IJ_GETREGSET, tid, ML__NT_FPREGSET, (uint64_t)(uintptr_t)&fiov) < 0) {
		free(xs);
		return ml_neg_errno();
	}
	if (!xlen)
		memset(xs + 464, 0, 48); /* no software bytes: the kernel restores the legacy area only */
	if (xlen) {
		memset(xs + 464, 0, 48);
		uint32_t m1 = 0x46505853, ext = xlen + 4, m2 = 0x46505845;
		memcpy(xs + 464, &m1, 4);
		memcpy(xs + 468, &ext, 4);
		memcpy(xs + 472, &xmask, 8);
		memcpy(xs + 480, &xlen, 4);
		memcpy(xs + xlen, &m2, 4);
	}
	size_t fplen = xlen ? xlen + 4 : 512;

	/* Below the red zone: the vector state (64-byte aligned), the thread's frame, the child's. */
	uint64_t top = (c.rsp - 128 - 64) & ~63ull;
	uint64_t fpa = (top - fplen) & ~63ull;
	uint64_t a = (fpa - FRAME_SIZE - 8) & ~15ull;
	uint64_t b = rq->fork ? (a - FRAME_SIZE - 8) & ~15ull : a;
	uint64_t low = b;
	size_t span = (size_t)(top - low);
	/* The address space as the thread sees it (task/TID): the same one, but still there
	 * when the leader has exited (a zombie's maps are empty). */
	ml_proc *tp = NULL;
	ml_maps *m = NULL;
	r = ml_proc_task(p, tid, &tp);
	if (r == 0)
		r = ml_maps_read(tp, ML_MAPS_TEXT, &m);
	if (r < 0) {
		ml_proc_free(tp);
		free(xs);
		return r;
	}
	const ml_vma *sv = ml_maps_find(m, c.rsp), *gv = ml_maps_find(m, g->sigreturn), *vv = ml_maps_find(m, g->sys_ret);
	/* At least a page of the stack stays below the frame. */
	bool ok_stack = sv && low >= sv->start + 4096 && low < c.rsp && is_thread_stack(tp, m, sv);
	bool ok_gadgets = gv && (gv->perms & ML_PERM_EXEC) && gv->inode == g->sigreturn_inode && vv &&
			  vv->kind == ML_VMA_VDSO && vv->start == g->vdso_start;
	ml_maps_free(m);
	ml_proc_free(tp);
	if (!ok_stack || !ok_gadgets) {
		free(xs);
		*why = !ok_stack ? "no thread's stack pointer is on a thread stack with room below it ([stack], or a "
				   "mapping with a guard page: not a sigaltstack or a buffer)"
				 : "its code moved";
		res->thread_refused = !ok_stack;
		return -EOPNOTSUPP;
	}

	bool own = true;     /* the thread's registers are its own: its memory may be put back */
	bool blocked = false; /* every signal is blocked in it */
	bool stopped = true;  /* it is in a ptrace stop (registers can be set) */
	bool entered = false; /* at the entry of the injected call */
	unsigned char *orig = malloc(span), *img = malloc(span);
	if (!orig || !img) {
		free(orig);
		free(img);
		free(xs);
		return -ENOMEM;
	}
	r = rw_target(tid, low, orig, span, false);
	if (r < 0) {
		*why = "its stack could not be read";
		goto out_nowrite;
	}
	memcpy(img, orig, span);
	frame_regs(&c, &fb);
	memcpy(img + (fpa - low), xs, fplen);
	put_frame(img + (a - low), g->sigreturn, &fb, fpa, mask);
	if (rq->fork) {
		/* The new process, if it ever runs by itself: exit_group(ML__COPY_EXIT) through the same two gadgets. */
		struct user_regs_struct d = c;
		d.rip = g->sys_ret;
		d.rax = NR_exit_group;
		d.rdi = ML__COPY_EXIT;
		d.rsp = a;
		put_frame(img + (b - low), g->sigreturn, &d, 0, ~0ull);
	}
	ml__inject_step(1, tid);
	r = rw_target(tid, low, img, span, true);
	if (r < 0) {
		*why = "its stack could not be written";
		goto out_nowrite;
	}
	ml__inject_step(2, tid);
	if (pt(IJ_SETOPTIONS, tid, 0, IJ_O_TRACECLONE | IJ_O_TRACESYSGOOD) < 0) {
		r = ml_neg_errno();
		goto out_restore_mem;
	}
	/* From here, the thread would run the call, then return through the frame, by itself. */
	inj = c;
	inj.rip = g->sys_ret;
	inj.rax = (uint64_t)rq->nr;
	inj.orig_rax = (uint64_t)-1;
	inj.rdi = rq->args[0];
	inj.rsi = rq->fork ? b : rq->args[1];
	inj.rdx = rq->args[2];
	inj.r10 = rq->args[3];
	inj.r8 = rq->args[4];
	inj.r9 = rq->args[5];
	inj.rsp = a;
	if (pt(IJ_SETREGS, tid, 0, (uint64_t)(uintptr_t)&inj) < 0) {
		r = ml_neg_errno();
		goto out_restore_mem;
	}
	/* Until its registers are put back, any failure leaves it to go through the frame when let go. */
	own = false;
	ml__inject_step(3, tid);
	/* No signal may run a handler on these registers, nor be taken out of its queue by us:
	 * every one waits, with its siginfo, until the thread's own mask is back. Only after the
	 * registers are the call's: if we die, rt_sigreturn puts the mask back from the frame. */
	uint64_t all = ~0ull;
	if (pt(IJ_SETSIGMASK, tid, 8, (uint64_t)(uintptr_t)&all) < 0) {
		r = ml_neg_errno();
		goto out_back;
	}
	blocked = true;
	ml__inject_step(4, tid);
	int ev = 0, sig = 0;
	unsigned tries = 0;
	/* Entry, the clone event if it made a process, exit: stopping at the exit also when the
	 * call fails, so that the thread never goes on with these registers while we live. */
	for (;;) {
		r = next_stop(tid, &ev, &sig, &stopped);
		if (r < 0)
			break;
		if (ev == IJ_EVENT_CLONE) {
			unsigned long msg = 0;
			if (pt(IJ_GETEVENTMSG, tid, 0, (uint64_t)(uintptr_t)&msg) == 0 && msg && rq->fork && !res->child) {
				pid_t ch = (pid_t)msg;
				int st;
				/* Ours from birth (a tracee: only we can collect its exit), stopped before
				 * its first instruction: the caller kills and reaps it on every path. */
				res->child = ch;
				ml__inject_step(6, tid);
				if (wait_stop(ch, &st) == 0 && mark_copy(ch) == 0 &&
				    pt(IJ_SETOPTIONS, ch, 0, IJ_O_EXITKILL) == 0)
					res->child_held = true;
				else
					kill(ch, SIGKILL);
				ml__inject_step(7, tid);
			}
			continue;
		}
		if (!entered) {
			entered = true;
			ml__inject_step(5, tid);
			continue;
		}
		entered = false;
		/* At the exit of the call: its result. */
		if (pt(IJ_GETREGS, tid, 0, (uint64_t)(uintptr_t)&back) < 0) {
			r = ml_neg_errno();
			break;
		}
		/* clone() gives -ERESTARTNOINTR when a signal or a stop came for the thread while it
		 * ran (a SIGSTOP, a freezer): the kernel would run it again once that is dealt
		 * with, and so do we (the stop is taken on the way, the signals stay blocked). */
		if ((long)back.rax == -ERESTARTNOINTR_ && ++tries < 64) {
			if (pt(IJ_SETREGS, tid, 0, (uint64_t)(uintptr_t)&inj) < 0) {
				r = ml_neg_errno();
				break;
			}
			continue;
		}
		res->ret = (long)back.rax;
		ml__inject_step(8, tid);
		break;
	}
out_back:
	/* Its own mask, then its own registers, exactly as they were (a call it was interrupted
	 * in still carries its -ERESTART* code): the kernel decides on the restart when the
	 * thread is let go, as after any ptrace stop, with whatever signal is then pending.
	 * Never at a system-call entry, where the kernel would run the call in orig_rax. */
	if (stopped && !entered && r != -ESRCH) {
		int e = 0;
		if (blocked && pt(IJ_SETSIGMASK, tid, 8, (uint64_t)(uintptr_t)&mask) < 0)
			e = ml_neg_errno();
		else
			blocked = false;
		ml__inject_step(9, tid);
		if (!e && pt(IJ_SETREGS, tid, 0, (uint64_t)(uintptr_t)&c) < 0)
			e = ml_neg_errno();
		if (!e)
			own = true;
		if (e && r == 0)
			r = e;
		ml__inject_step(10, tid);
	}
	if (r == -EFAULT)
		*why = "the injected call faulted";
	if (res->child && res->child_held)
		rw_target(res->child, low, orig, span, true);
out_restore_mem:
	/* Only while it is stopped with its own registers: otherwise it still needs the frame. */
	if (own && r != -ESRCH)
		rw_target(tid, low, orig, span, true);
	pt(IJ_SETOPTIONS, tid, 0, IJ_O_TRACECLONE);
out_nowrite:
	free(orig);
	free(img);
	free(xs);
	return r;
}

/* ---- reaping the held process's zombie in the target ---- */

/* wait4(child) run in thread @tid; *refused when that thread cannot take an injection. */
static int reap_with(const ml_proc *p, pid_t tid, pid_t child, const ml__gadgets *g, bool *refused)
{
	*refused = false;
	for (int attempt = 0; attempt < 3; attempt++) {
		/* No options: with PTRACE_O_TRACECLONE a thread inside clone() would stop at the
		 * clone event with its new thread attached to us from birth. ml__inject() sets the
		 * options it needs itself. */
		if (pt(IJ_SEIZE, tid, 0, 0) < 0)
			return ml_neg_errno();
		ml__inject_step(20, tid);
		if (pt(IJ_INTERRUPT, tid, 0, 0) < 0) {
			int e = ml_neg_errno();
			pt(IJ_DETACH, tid, 0, 0);
			return e;
		}
		int st, r = wait_stop(tid, &st);
		if (r < 0)
			return r;
		int s = WSTOPSIG(st), ev = st >> 16;
		if (ev != IJ_EVENT_STOP || s != SIGTRAP) {
			/* About to take a signal (given back as it was), or stopped by job control: let
			 * it be and try again. */
			pt(IJ_DETACH, tid, 0, ev == 0 ? (uint64_t)s : 0);
			if (ev == IJ_EVENT_STOP)
				return -EAGAIN;
			continue;
		}
		ml__inject_req rq = { .nr = SYS_wait4, .args = { (uint64_t)child, 0, WNOHANG | __WALL, 0, 0, 0 } };
		ml__inject_res res;
		const char *why = NULL;
		r = ml__inject(p, tid, g, &rq, &res, &why);
		ml__inject_step(21, tid);
		pt(IJ_DETACH, tid, 0, 0);
		*refused = r == -EOPNOTSUPP && res.thread_refused;
		if (r < 0)
			return r;
		return res.ret == child ? 0 : res.ret < 0 ? (int)res.ret : -EAGAIN;
	}
	return -EAGAIN;
}

int ml__reap_in(const ml_proc *p, pid_t child, const ml__gadgets *g)
{
	/* Any thread will do: the leader first, then the others, until one can take it. */
	pid_t tids[64];
	size_t n = 0;
	tids[n++] = ml_proc_pid(p);
	int fd = ml_proc_openat(p, "task", O_RDONLY | O_DIRECTORY);
	if (fd >= 0) {
		char buf[4096];
		long len = syscall(SYS_getdents64, fd, buf, sizeof(buf));
		close(fd);
		for (long o = 0; o < len && n < 64;) {
			unsigned short rl;
			memcpy(&rl, buf + o + 16, 2);
			long t = atol(buf + o + 19);
			if (t > 0 && t != ml_proc_pid(p))
				tids[n++] = (pid_t)t;
			o += rl;
		}
	}
	int r = -ESRCH;
	for (size_t i = 0; i < n; i++) {
		bool refused;
		r = reap_with(p, tids[i], child, g, &refused);
		/* That thread has exited (PTRACE_SEIZE refuses an exited leader, a zombie while the
		 * others run, with EPERM), or cannot be used: the next. */
		if (r == -ESRCH || r == -EPERM || refused)
			continue;
		return r;
	}
	return r;
}
