/* lib/coreinfo.c: ml_core_info_parse() on notes built here from the C library's own
 * structures (<sys/procfs.h>, siginfo_t): every field of each note, registers on x86_64 and
 * aarch64, notes of other owners kept, and a cut anywhere inside a note refused. */
#include <elf.h>
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/procfs.h>

#include <memlens/memlens.h>

#include "mltest.h"

typedef struct nbuf {
	uint8_t *b;
	size_t n;
	size_t ends[16]; /* where each note ends */
	size_t nends;
} nbuf;

static void note(nbuf *nb, const char *name, uint32_t type, const void *desc, size_t len)
{
	uint32_t h[3] = { (uint32_t)strlen(name) + 1, (uint32_t)len, type };
	size_t nl = (h[0] + 3) & ~3u, dl = (len + 3) & ~(size_t)3;
	nb->b = realloc(nb->b, nb->n + 12 + nl + dl);
	uint8_t *p = nb->b + nb->n;
	memset(p, 0, 12 + nl + dl);
	memcpy(p, h, 12);
	memcpy(p + 12, name, h[0]);
	memcpy(p + 12 + nl, desc, len);
	nb->n += 12 + nl + dl;
	nb->ends[nb->nends++] = nb->n;
}

/* The registers' indexes in elf_gregset_t. x86_64: struct user_regs_struct; aarch64:
 * struct user_pt_regs (x0..x30, sp, pc). */
enum { X86_RIP = 16, X86_RSP = 19, A64_SP = 31, A64_PC = 32 };

/* struct elf_prstatus of this machine (x86_64) for its header; an aarch64 one differs only
 * in its register set (34 words instead of 27), which starts at the same offset. */
static void prstatus(nbuf *nb, pid_t tid, int sig, uint64_t pend, uint64_t hold, uint64_t pc, uint64_t sp,
		     bool aarch64)
{
	struct elf_prstatus s;
	memset(&s, 0, sizeof(s));
	s.pr_pid = tid;
	s.pr_cursig = (short)sig;
	s.pr_sigpend = pend;
	s.pr_sighold = hold;
	size_t off = offsetof(struct elf_prstatus, pr_reg), nregs = aarch64 ? 34 : 27;
	size_t len = off + nregs * 8 + 8; /* pr_fpvalid, padded */
	uint8_t *d = calloc(1, len);
	memcpy(d, &s, off);
	uint64_t r[34] = { 0 };
	r[aarch64 ? A64_PC : X86_RIP] = pc;
	r[aarch64 ? A64_SP : X86_RSP] = sp;
	memcpy(d + off, r, nregs * 8);
	if (!aarch64)
		ck_assert_uint_eq(len, sizeof(s));
	note(nb, "CORE", NT_PRSTATUS, d, len);
	free(d);
}

static const char fname_a[] = "/usr/lib/a b.so", fname_b[] = "/tmp/new\nline (deleted)";

/* A kernel-like set: PRSTATUS of the dumping thread, PRPSINFO, SIGINFO, AUXV, FILE, a second
 * thread, and a note of another owner. */
static void build(nbuf *nb, bool aarch64)
{
	memset(nb, 0, sizeof(*nb));
	prstatus(nb, 4242, SIGSEGV, 1ull << (SIGUSR1 - 1), 1ull << (SIGTERM - 1), 0x401234, 0x7ffc0000f000, aarch64);

	struct elf_prpsinfo ps;
	memset(&ps, 0, sizeof(ps));
	ps.pr_pid = 4242;
	ps.pr_ppid = 17;
	ps.pr_pgrp = 4200;
	ps.pr_sid = 4100;
	ps.pr_uid = 1000;
	ps.pr_gid = 1001;
	ps.pr_sname = 'S';
	memcpy(ps.pr_fname, "my prog", 7);
	memcpy(ps.pr_psargs, "my prog --x y", 13);
	note(nb, "CORE", NT_PRPSINFO, &ps, sizeof(ps));

	siginfo_t si;
	memset(&si, 0, sizeof(si));
	si.si_signo = SIGSEGV;
	si.si_code = SEGV_MAPERR;
	si.si_errno = 0;
	si.si_addr = (void *)0xdead000;
	note(nb, "CORE", NT_SIGINFO, &si, sizeof(si));

	uint64_t auxv[] = { AT_PAGESZ, 4096, AT_ENTRY, 0x401000, AT_NULL, 0 };
	note(nb, "CORE", NT_AUXV, auxv, sizeof(auxv));

	/* NT_FILE: count, page size, (start, end, page offset) each, then the names */
	uint8_t f[256];
	uint64_t hdr[2 + 6] = { 2, 4096, 0x7f0000000000, 0x7f0000003000, 2, 0x7f0000010000, 0x7f0000011000, 0 };
	memcpy(f, hdr, sizeof(hdr));
	size_t fl = sizeof(hdr);
	memcpy(f + fl, fname_a, sizeof(fname_a));
	fl += sizeof(fname_a);
	memcpy(f + fl, fname_b, sizeof(fname_b));
	fl += sizeof(fname_b);
	note(nb, "CORE", NT_FILE, f, fl);

	prstatus(nb, 4243, 0, 0, ~0ull, 0x402000, 0x7ffc0001f000, aarch64);
	note(nb, "GDB", 1, "xyz", 3);
}

START_TEST(every_note_decoded)
{
	uint16_t machine = _i ? EM_AARCH64 : EM_X86_64;
	nbuf nb;
	build(&nb, _i);
	ml_core_info *ci;
	ck_assert_int_eq(ml_core_info_parse(nb.b, nb.n, machine, &ci), 0);
	ck_assert_uint_eq(ci->machine, machine);
	ck_assert(ci->have_prpsinfo);
	ck_assert_int_eq(ci->pid, 4242);
	ck_assert_int_eq(ci->ppid, 17);
	ck_assert_int_eq(ci->pgrp, 4200);
	ck_assert_int_eq(ci->sid, 4100);
	ck_assert_uint_eq(ci->uid, 1000);
	ck_assert_uint_eq(ci->gid, 1001);
	ck_assert_int_eq(ci->state, 'S');
	ck_assert_str_eq(ci->comm, "my prog");
	ck_assert_str_eq(ci->psargs, "my prog --x y");

	ck_assert_uint_eq(ci->nthreads, 2);
	const ml_core_thread *t = &ci->threads[0];
	ck_assert_int_eq(t->tid, 4242);
	ck_assert_int_eq(t->cursig, SIGSEGV);
	ck_assert_uint_eq(t->sigpend, 1ull << (SIGUSR1 - 1));
	ck_assert_uint_eq(t->sighold, 1ull << (SIGTERM - 1));
	ck_assert(t->have_regs);
	ck_assert_uint_eq(t->pc, 0x401234);
	ck_assert_uint_eq(t->sp, 0x7ffc0000f000);
	t = &ci->threads[1];
	ck_assert_int_eq(t->tid, 4243);
	ck_assert_int_eq(t->cursig, 0);
	ck_assert_uint_eq(t->sighold, ~0ull);
	ck_assert_uint_eq(t->pc, 0x402000);
	ck_assert_uint_eq(t->sp, 0x7ffc0001f000);

	ck_assert(ci->have_siginfo);
	ck_assert_int_eq(ci->signo, SIGSEGV);
	ck_assert_int_eq(ci->sigcode, SEGV_MAPERR);
	ck_assert_uint_eq(ci->sigaddr, 0xdead000);

	ck_assert_uint_eq(ci->auxv_len, 6 * 8);
	uint64_t a[6];
	memcpy(a, ci->auxv, sizeof(a));
	ck_assert_uint_eq(a[0], AT_PAGESZ);
	ck_assert_uint_eq(a[3], 0x401000);

	ck_assert_uint_eq(ci->nfiles, 2);
	ck_assert_uint_eq(ci->files[0].start, 0x7f0000000000);
	ck_assert_uint_eq(ci->files[0].end, 0x7f0000003000);
	ck_assert_uint_eq(ci->files[0].offset, 2 * 4096);
	ck_assert_str_eq(ci->files[0].name, fname_a);
	ck_assert_uint_eq(ci->files[0].name_len, strlen(fname_a));
	ck_assert_uint_eq(ci->files[1].offset, 0);
	ck_assert_str_eq(ci->files[1].name, fname_b);

	ck_assert_uint_eq(ci->nnotes, 7);
	ck_assert_str_eq(ci->notes[6].name, "GDB");
	ck_assert_uint_eq(ci->notes[6].type, 1);
	ck_assert_uint_eq(ci->notes[6].len, 3);
	ck_assert(!memcmp(ci->notes[6].desc, "xyz", 3));
	ck_assert_uint_eq(ci->notes[2].type, NT_SIGINFO);
	ml_core_info_free(ci);
	free(nb.b);
}
END_TEST

/* Registers are decoded only where their layout is known. */
START_TEST(registers_only_for_known_machines)
{
	nbuf nb;
	build(&nb, false);
	ml_core_info *ci;
	ck_assert_int_eq(ml_core_info_parse(nb.b, nb.n, EM_RISCV, &ci), 0);
	ck_assert_uint_eq(ci->nthreads, 2);
	ck_assert(!ci->threads[0].have_regs);
	ck_assert_uint_eq(ci->threads[0].pc, 0);
	ck_assert_int_eq(ci->threads[0].tid, 4242);
	ml_core_info_free(ci);
	free(nb.b);
}
END_TEST

/* Cut at a note's end: the notes before it; cut anywhere inside one: refused. */
START_TEST(cut_anywhere)
{
	nbuf nb;
	build(&nb, false);
	size_t k = 0;
	for (size_t cut = 0; cut < nb.n; cut++) {
		uint8_t *copy = malloc(cut ? cut : 1);
		memcpy(copy, nb.b, cut);
		ml_core_info *ci = NULL;
		int r = ml_core_info_parse(copy, cut, EM_X86_64, &ci);
		while (k < nb.nends && nb.ends[k] < cut)
			k++;
		bool boundary = cut == 0 || (k < nb.nends && nb.ends[k] == cut);
		if (boundary) {
			ck_assert_msg(r == 0, "cut at %zu (a note's end): %d", cut, r);
			size_t want = 0;
			while (want < nb.nends && nb.ends[want] <= cut)
				want++;
			ck_assert_uint_eq(ci->nnotes, want);
			ml_core_info_free(ci);
		} else {
			ck_assert_msg(r == -EBADMSG, "cut at %zu (inside a note): %d", cut, r);
			ck_assert_ptr_null(ci);
		}
		free(copy);
	}
	free(nb.b);
}
END_TEST

START_TEST(short_or_malformed_core_notes)
{
	ml_core_info *ci = NULL;
	uint8_t small[16] = { 0 };
	static const uint32_t types[] = { NT_PRSTATUS, NT_PRPSINFO, NT_SIGINFO };
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		nbuf nb = { 0 };
		note(&nb, "CORE", types[i], small, sizeof(small));
		ck_assert_msg(ml_core_info_parse(nb.b, nb.n, EM_X86_64, &ci) == -EBADMSG, "type %u", types[i]);
		free(nb.b);
	}
	/* NT_FILE claiming more entries than it holds, or names missing */
	uint64_t f[2 + 3] = { 2, 4096, 0x1000, 0x2000, 0 };
	nbuf nb = { 0 };
	note(&nb, "CORE", NT_FILE, f, sizeof(f));
	ck_assert_int_eq(ml_core_info_parse(nb.b, nb.n, EM_X86_64, &ci), -EBADMSG);
	free(nb.b);
	f[0] = 1;
	memset(&nb, 0, sizeof(nb));
	note(&nb, "CORE", NT_FILE, f, sizeof(f));
	ck_assert_int_eq(ml_core_info_parse(nb.b, nb.n, EM_X86_64, &ci), -EBADMSG);
	free(nb.b);
	/* the same types from another owner are not the kernel's structures: kept, not decoded */
	memset(&nb, 0, sizeof(nb));
	note(&nb, "LINUX", NT_PRSTATUS, small, sizeof(small));
	ck_assert_int_eq(ml_core_info_parse(nb.b, nb.n, EM_X86_64, &ci), 0);
	ck_assert_uint_eq(ci->nthreads, 0);
	ck_assert_uint_eq(ci->nnotes, 1);
	ml_core_info_free(ci);
	free(nb.b);
	ck_assert_int_eq(ml_core_info_parse(NULL, 12, EM_X86_64, &ci), -EINVAL);
	ml_core_info_free(NULL);
}
END_TEST

/* An owner whose size counts its padding ("CORE" and three more NULs, namesz 8) is still
 * "CORE": the pass that counts the threads must agree with the one that decodes them (it
 * did not, and the second wrote past the first's count: found by fuzz_elfcore). */
START_TEST(owner_size_with_padding_counts_the_same)
{
	nbuf nb = { 0 };
	prstatus(&nb, 101, 0, 0, 0, 0x1000, 0x2000, false);
	prstatus(&nb, 102, 0, 0, 0, 0x3000, 0x4000, false);
	size_t start = 0;
	for (size_t i = 0; i < nb.nends; i++) {
		uint32_t nsz = 8;
		memcpy(nb.b + start, &nsz, 4);
		start = nb.ends[i];
	}
	ml_core_info *ci = NULL;
	ck_assert_int_eq(ml_core_info_parse(nb.b, nb.n, EM_X86_64, &ci), 0);
	ck_assert_uint_eq(ci->nnotes, 2);
	ck_assert_str_eq(ci->notes[0].name, "CORE");
	ck_assert_uint_eq(ci->nthreads, 2);
	ck_assert_int_eq(ci->threads[0].tid, 101);
	ck_assert_int_eq(ci->threads[1].tid, 102);
	ck_assert_uint_eq(ci->threads[1].pc, 0x3000);
	ml_core_info_free(ci);
	free(nb.b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("coreinfo");
	TCase *tc = tcase_create("coreinfo");
	tcase_add_loop_test(tc, every_note_decoded, 0, 2);
	tcase_add_test(tc, registers_only_for_known_machines);
	tcase_add_test(tc, cut_anywhere);
	tcase_add_test(tc, short_or_malformed_core_notes);
	tcase_add_test(tc, owner_size_with_padding_counts_the_same);
	suite_add_tcase(s, tc);
	return mlt_run_suite(s);
}
