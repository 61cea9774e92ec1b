/* lib/capture_notes.c (the pure parts of a capture) against a fixture captured with a kernel core: selection sizes, NT_FILE, NT_AUXV, layouts. */
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/procfs.h>
#include <unistd.h>

#include "internal/internal.h"
#include "internal/capture_impl.h"
#include "mltest.h"

static char *slurp(const char *name, size_t *len)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/proc/dumpee/%s", mlt_fixture_dir(), name);
	int fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	char *b;
	ck_assert_int_eq(ml__read_fd_all(fd, 4096, &b, len), 0);
	close(fd);
	return b;
}

/* Finds note @n (0-based) of @type in a raw PT_NOTE segment. */
static const unsigned char *find_note(const unsigned char *d, size_t len, uint32_t type, int nth,
				      size_t *dlen, const char **owner)
{
	size_t o = 0;
	while (o + 12 <= len) {
		uint32_t nsz, dsz, t;
		memcpy(&nsz, d + o, 4);
		memcpy(&dsz, d + o + 4, 4);
		memcpy(&t, d + o + 8, 4);
		size_t name_off = o + 12, desc_off = name_off + ((nsz + 3) & ~3u);
		if (t == type && nth-- == 0) {
			*dlen = dsz;
			if (owner)
				*owner = (const char *)d + name_off;
			return d + desc_off;
		}
		o = desc_off + ((dsz + 3) & ~3u);
	}
	return NULL;
}

/* The fixture's smaps as capture reads it: with the library's smaps parser. */
static ml_smaps *fixture_vmas(size_t *n)
{
	size_t len;
	char *s = slurp("smaps", &len);
	ml_smaps *sm;
	ck_assert_int_eq(ml_smaps_parse(s, len, &sm), 0);
	free(s);
	*n = ml_smaps_count(sm);
	return sm;
}

START_TEST(smaps_records)
{
	size_t n;
	ml_smaps *sm = fixture_vmas(&n);
	ck_assert_uint_eq(n, 36);
	int dd = 0, memfd = 0, shmem = 0, vsys = 0;
	for (size_t i = 0; i < n; i++) {
		const ml_smaps_vma *v = ml_smaps_get(sm, i);
		ck_assert(v->has_vm_flags || v->vma.kind == ML_VMA_VSYSCALL);
		if ((v->vm_flags & ML_VMF_DD) && v->vma.kind == ML_VMA_ANON) {
			dd++;
			ck_assert_uint_eq(v->vma.end - v->vma.start, 4 * 4096);
		}
		if (v->vma.kind == ML_VMA_MEMFD) {
			memfd++;
			ck_assert(v->vma.deleted);
			ck_assert_str_eq(v->vma.name, "/memfd:dumpee");
			ck_assert(v->vm_flags & ML_VMF_SH);
		}
		shmem += v->vma.kind == ML_VMA_SHMEM;
		vsys += v->vma.kind == ML_VMA_VSYSCALL;
		if (i)
			ck_assert_uint_ge(v->vma.start, ml_smaps_get(sm, i - 1)->vma.end);
	}
	ck_assert_int_eq(dd, 1);
	ck_assert_int_eq(memfd, 1);
	ck_assert_int_eq(shmem, 1);
	ck_assert_int_eq(vsys, 1);
	ml_smaps_free(sm);
}
END_TEST

START_TEST(dump_sizes_match_the_kernel_core)
{
	size_t n, len;
	ml_smaps *sm = fixture_vmas(&n);
	char *loads = slurp("core_loads", &len);
	char *cdf = slurp("coredump_filter", &len);
	uint64_t filter = strtoull(cdf, NULL, 16);
	ck_assert_uint_eq(filter, 0x33);
	char *line = loads;
	for (size_t i = 0; i < n; i++) {
		const ml_smaps_vma *v = ml_smaps_get(sm, i);
		unsigned long long va, fs, ms;
		int used = 0;
		ck_assert_int_eq(sscanf(line, "%llx %llx %llx%n", &va, &fs, &ms, &used), 3);
		line += used;
		ck_assert_uint_eq(va, v->vma.start);
		ck_assert_uint_eq(ms, v->vma.end - v->vma.start);
		/* Every file mapping in this fixture is an ELF object; only the executable has x bits. */
		ml__file_facts ff = { .known = true, .elf_magic = true,
				      .exec = v->vma.name_len > 9 &&
					      !strcmp(v->vma.name + v->vma.name_len - 9, "ml_dumpee") };
		ck_assert_msg(ml__dump_size(v, filter, 0, &ff) == fs,
			      "mapping %llx %s: ours %llu, kernel %llu", va, v->vma.name,
			      (unsigned long long)ml__dump_size(v, filter, 0, &ff), fs);
	}
	free(loads);
	free(cdf);
	ml_smaps_free(sm);
}
END_TEST

/* One mapping 0x10000-0x30000 as smaps would show it; the record's strings live in a
 * parse kept until synth_free(). */
static ml_smaps *synth_keep[16];
static size_t synth_n;

static ml_smaps_vma synth(const char *perms, const char *vmflags, const char *name, uint64_t inode, uint64_t anon)
{
	char text[512];
	snprintf(text, sizeof(text),
		 "00010000-00030000 %s 00000000 %s %llu %s\nAnonymous: %llu kB\nVmFlags: %s\n", perms,
		 inode ? "fe:01" : "00:00", (unsigned long long)inode, name, (unsigned long long)(anon / 1024),
		 vmflags);
	ml_smaps *sm;
	ck_assert_int_eq(ml_smaps_parse(text, strlen(text), &sm), 0);
	ck_assert_uint_lt(synth_n, 16);
	synth_keep[synth_n++] = sm;
	return *ml_smaps_get(sm, 0);
}

static void synth_free(void)
{
	while (synth_n)
		ml_smaps_free(synth_keep[--synth_n]);
}

START_TEST(filter_bits)
{
		ml__file_facts elf = { .known = true, .elf_magic = true };
	ml_smaps_vma anon = synth("rw-p", "rd wr", "", 0, 4096);
	ck_assert_uint_eq(ml__dump_size(&anon, 0x33, 0, NULL), 0x20000);
	ck_assert_uint_eq(ml__dump_size(&anon, 0x32, 0, NULL), 0);
	ml_smaps_vma untouched = synth("rw-p", "rd wr", "", 0, 0);
	ck_assert_uint_eq(ml__dump_size(&untouched, 0x1ff, 0, NULL), 0);
	ml_smaps_vma dd = synth("rw-p", "rd wr dd", "", 0, 4096);
	ck_assert_uint_eq(ml__dump_size(&dd, 0x33, 0, NULL), 0);
	ck_assert_uint_eq(ml__dump_size(&dd, 0x33, ML__SEL_INCLUDE_DONTDUMP, NULL), 0x20000);
	ml_smaps_vma lib = synth("r--p", "rd", "/usr/lib/libx.so", 42, 0);
	ck_assert_uint_eq(ml__dump_size(&lib, 0x33, 0, &elf), 4096);
	ck_assert_uint_eq(ml__dump_size(&lib, 0x23, 0, &elf), 0);       /* no ELF_HEADERS */
	ck_assert_uint_eq(ml__dump_size(&lib, 0x37, 0, &elf), 0x20000); /* MAPPED_PRIVATE */
	ml__file_facts txt = { .known = true };
	ck_assert_uint_eq(ml__dump_size(&lib, 0x33, 0, &txt), 0);
	lib.vma.offset = 0x1000;
	ck_assert_uint_eq(ml__dump_size(&lib, 0x33, 0, &elf), 0);
	ml_smaps_vma shfile = synth("rw-s", "rd wr sh", "/data/f", 7, 0);
	ck_assert_uint_eq(ml__dump_size(&shfile, 0x33, 0, NULL), 0);
	ck_assert_uint_eq(ml__dump_size(&shfile, 0x3b, 0, NULL), 0x20000); /* MAPPED_SHARED */
	ml_smaps_vma shanon = synth("rw-s", "rd wr sh", "/dev/zero (deleted)", 7, 0);
	ck_assert(shanon.vma.deleted);
	ck_assert_uint_eq(ml__dump_size(&shanon, 0x33, 0, NULL), 0x20000);
	ck_assert_uint_eq(ml__dump_size(&shanon, 0x31, 0, NULL), 0); /* no ANON_SHARED */
	ml_smaps_vma ht = synth("rw-p", "rd wr ht", "/anon_hugepage", 9, 0);
	ck_assert_uint_eq(ml__dump_size(&ht, 0x33, 0, NULL), 0x20000);
	ck_assert_uint_eq(ml__dump_size(&ht, 0x13, 0, NULL), 0);
	ml_smaps_vma io = synth("rw-p", "rd wr io", "/dev/mem", 9, 4096);
	ck_assert_uint_eq(ml__dump_size(&io, 0x1ff, 0, NULL), 0);
	ml_smaps_vma vdso = synth("r-xp", "rd ex dd", "[vdso]", 0, 0);
	ck_assert_uint_eq(ml__dump_size(&vdso, 0, 0, NULL), 0x20000); /* always dumped */
	synth_free();
}
END_TEST

START_TEST(nt_file_and_auxv_match_the_kernel)
{
	size_t n, nlen, alen, klen;
	ml_smaps *sm = fixture_vmas(&n);
	unsigned char *notes = (unsigned char *)slurp("core_notes", &nlen);
	const char *owner;
	const unsigned char *k = find_note(notes, nlen, ML__NT_FILE, 0, &klen, &owner);
	ck_assert_ptr_nonnull(k);
	ck_assert_str_eq(owner, "CORE");
	unsigned char *ours;
	size_t olen;
	ck_assert_int_eq(ml__note_file(sm, 4096, &ours, &olen), 0);
	ck_assert_uint_eq(olen, klen);
	ck_assert_int_eq(memcmp(ours, k, klen), 0);
	free(ours);
	char *auxv = slurp("auxv", &alen);
	k = find_note(notes, nlen, ML__NT_AUXV, 0, &klen, NULL);
	ck_assert_uint_eq(alen, klen);
	ck_assert_int_eq(memcmp(auxv, k, klen), 0);
	free(auxv);
	ml_smaps_free(sm);
	free(notes);
}
END_TEST

/* The kernel's layout note of the fixture core, rebuilt from the feature mask its
 * NT_X86_XSTATE shows at byte 464 and the sizes/offsets that CPU gave (AVX 256 at 576,
 * AVX-512 opmask 64 at 832, ZMM_Hi256 512 at 896, Hi16_ZMM 1024 at 1408). */
START_TEST(xsave_layout_matches_the_kernel)
{
	size_t nlen, klen, xlen;
	unsigned char *notes = (unsigned char *)slurp("core_notes", &nlen);
	const char *owner;
	const unsigned char *k = find_note(notes, nlen, ML__NT_X86_XSAVE_LAYOUT, 0, &klen, &owner);
	const unsigned char *x = find_note(notes, nlen, ML__NT_X86_XSTATE, 0, &xlen, NULL);
	ck_assert_ptr_nonnull(k);
	ck_assert_ptr_nonnull(x);
	ck_assert_str_eq(owner, "LINUX");
	uint64_t mask;
	memcpy(&mask, x + 464, 8);
	uint32_t size[64] = { 0 }, off[64] = { 0 };
	size[2] = 256, off[2] = 576;
	size[5] = 64, off[5] = 832;
	size[6] = 512, off[6] = 896;
	size[7] = 1024, off[7] = 1408;
	unsigned char ours[64 * 16];
	size_t n = ml__note_xsave_layout(mask, size, off, ours);
	ck_assert_uint_eq(n, klen);
	ck_assert_int_eq(memcmp(ours, k, klen), 0);
	/* The layout covers the whole XSTATE note, as the kernel sizes it. */
	ck_assert_uint_eq(off[7] + size[7], xlen);
	/* Only the notes' last: after every thread's registers. */
	ck_assert_ptr_null(find_note(notes, nlen, ML__NT_X86_XSAVE_LAYOUT, 1, &klen, NULL));
	ck_assert_ptr_eq(k + klen, notes + nlen);
	free(notes);
}
END_TEST

START_TEST(prpsinfo_matches_the_kernel)
{
	size_t nlen, slen, clen, stlen, klen;
	unsigned char *notes = (unsigned char *)slurp("core_notes", &nlen);
	char *stat = slurp("stat", &slen), *cmd = slurp("cmdline", &clen), *st = slurp("status", &stlen);
	int64_t pid, ppid, pgrp, sid, flags, nice;
	ck_assert_int_eq(ml__stat_field(stat, slen, 1, &pid), 0);
	ck_assert_int_eq(ml__stat_field(stat, slen, 4, &ppid), 0);
	ck_assert_int_eq(ml__stat_field(stat, slen, 5, &pgrp), 0);
	ck_assert_int_eq(ml__stat_field(stat, slen, 6, &sid), 0);
	ck_assert_int_eq(ml__stat_field(stat, slen, 9, &flags), 0);
	ck_assert_int_eq(ml__stat_field(stat, slen, 19, &nice), 0);
	uint64_t uid, gid;
	ck_assert_int_eq(ml__status_num(st, stlen, "Uid", false, &uid), 0);
	ck_assert_int_eq(ml__status_num(st, stlen, "Gid", false, &gid), 0);
	ml__proc_info pi = { .pid = (pid_t)pid, .ppid = (pid_t)ppid, .pgrp = (pid_t)pgrp,
			     .sid = (pid_t)sid, .state = 'R', .nice = (int)nice, .flags = (uint64_t)flags,
			     .uid = (uint32_t)uid, .gid = (uint32_t)gid, .comm = "ml_dumpee", .comm_len = 9,
			     .cmdline = cmd, .cmdline_len = clen };
	unsigned char ours[ML__PRPSINFO_SIZE];
	ml__note_prpsinfo(&pi, ours);
	const unsigned char *k = find_note(notes, nlen, ML__NT_PRPSINFO, 0, &klen, NULL);
	ck_assert_uint_eq(klen, ML__PRPSINFO_SIZE);
	/* The dumping kernel adds PF_DUMPCORE|PF_SIGNALED to pr_flag; all else is equal. */
	uint64_t kf, of;
	memcpy(&kf, k + 8, 8);
	memcpy(&of, ours + 8, 8);
	ck_assert_uint_eq(kf & ~0x600ull, of);
	ck_assert_int_eq(memcmp(ours, k, 8), 0);
	ck_assert_int_eq(memcmp(ours + 16, k + 16, ML__PRPSINFO_SIZE - 16), 0);
	free(notes);
	free(stat);
	free(cmd);
	free(st);
}
END_TEST

START_TEST(prstatus_layout_is_glibcs)
{
	ck_assert_uint_eq(sizeof(struct elf_prstatus), ML__PRSTATUS_SIZE);
	ck_assert_uint_eq(sizeof(struct elf_prpsinfo), ML__PRPSINFO_SIZE);
	ml__thread_info ti = { .tid = 1234, .ppid = 55, .pgrp = 66, .sid = 77, .cursig = 11,
			       .sigpend = 0x100, .sighold = 0x200, .utime_us = 1500000,
			       .stime_us = 250, .cutime_us = 3, .cstime_us = 4000001 };
	uint64_t regs[27];
	for (int i = 0; i < 27; i++)
		regs[i] = 0x1111111111111111ull * (uint64_t)(i % 15 + 1);
	unsigned char out[ML__PRSTATUS_SIZE];
	ml__note_prstatus(&ti, regs, sizeof(regs), true, out);
	struct elf_prstatus ps;
	memcpy(&ps, out, sizeof(ps));
	ck_assert_int_eq(ps.pr_info.si_signo, 11);
	ck_assert_int_eq(ps.pr_cursig, 11);
	ck_assert_uint_eq(ps.pr_sigpend, 0x100);
	ck_assert_uint_eq(ps.pr_sighold, 0x200);
	ck_assert_int_eq(ps.pr_pid, 1234);
	ck_assert_int_eq(ps.pr_ppid, 55);
	ck_assert_int_eq(ps.pr_pgrp, 66);
	ck_assert_int_eq(ps.pr_sid, 77);
	ck_assert_int_eq(ps.pr_utime.tv_sec, 1);
	ck_assert_int_eq(ps.pr_utime.tv_usec, 500000);
	ck_assert_int_eq(ps.pr_stime.tv_usec, 250);
	ck_assert_int_eq(ps.pr_cstime.tv_sec, 4);
	ck_assert_int_eq(ps.pr_cstime.tv_usec, 1);
	ck_assert_int_eq(memcmp(ps.pr_reg, regs, sizeof(regs)), 0);
	ck_assert_int_eq(ps.pr_fpvalid, 1);
}
END_TEST

START_TEST(hostile_smaps)
{
	/* what capture relies on from the library's smaps parser */
	const char bad[] = "zzzz\n";
	ml_smaps *sm;
	ck_assert_int_eq(ml_smaps_parse(bad, sizeof(bad) - 1, &sm), -EBADMSG);
	const char nl[] = "1000-2000 rw-p 00000000 08:01 12 /tmp/a\\012b (deleted)\nVmFlags: rd wr dd\n"
			  "3000-4000 rw-s 00000000 00:01 99 /dev/zero (deleted)";
	ck_assert_int_eq(ml_smaps_parse(nl, sizeof(nl) - 1, &sm), 0);
	ck_assert_uint_eq(ml_smaps_count(sm), 2);
	const ml_smaps_vma *a = ml_smaps_get(sm, 0), *b = ml_smaps_get(sm, 1);
	ck_assert_uint_eq(a->vma.name_len, 8);
	ck_assert_int_eq(memcmp(a->vma.name, "/tmp/a\nb", 8), 0);
	ck_assert(a->vma.deleted);
	ck_assert(a->vm_flags & ML_VMF_DD);
	ck_assert_int_eq(b->vma.kind, ML_VMA_SHMEM);
	/* the maps text is the header lines, as written */
	ck_assert_uint_eq(a->line_off, 0);
	ck_assert_uint_eq(b->line_off, (size_t)(strstr(nl, "3000-") - nl));
	ck_assert_uint_eq(a->line_len, (size_t)(strchr(nl, '\n') - nl) + 1);
	ml_smaps_free(sm);
	/* Truncated headers never read past the end. */
	for (size_t cut = 0; cut < sizeof(nl) - 1; cut++) {
		char *bb = malloc(cut ? cut : 1);
		memcpy(bb, nl, cut);
		if (ml_smaps_parse(bb, cut, &sm) == 0)
			ml_smaps_free(sm);
		free(bb);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("capture_notes");
	TCase *tc = tcase_create("capture");
	tcase_add_test(tc, smaps_records);
	tcase_add_test(tc, dump_sizes_match_the_kernel_core);
	tcase_add_test(tc, filter_bits);
	tcase_add_test(tc, nt_file_and_auxv_match_the_kernel);
	tcase_add_test(tc, prpsinfo_matches_the_kernel);
	tcase_add_test(tc, xsave_layout_matches_the_kernel);
	tcase_add_test(tc, prstatus_layout_is_glibcs);
	tcase_add_test(tc, hostile_smaps);
	suite_add_tcase(s, tc);
	return mlt_run_suite(s);
}
