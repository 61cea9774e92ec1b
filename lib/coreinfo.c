/* Decoding the notes of an ELF core: process, threads, signal, auxv and file mappings. */
#include <elf.h>
#include <string.h>

#include "internal/internal.h"
#include "internal/source_impl.h"
#include <memlens/coreinfo.h>

#ifndef NT_SIGINFO
#define NT_SIGINFO 0x53494749
#endif
#ifndef NT_FILE
#define NT_FILE 0x46494c45
#endif

/*
 * Offsets in the 64-bit Linux structures (include/uapi/linux/elfcore.h), which are the
 * same on every 64-bit architecture up to pr_reg: elf_prstatus starts with elf_siginfo
 * (12 bytes), pr_cursig (short), two unsigned longs of signal masks, four pids, four
 * timevals, then pr_reg; elf_prpsinfo is four chars, pr_flag, uid, gid, four pids,
 * pr_fname[16], pr_psargs[80].
 */
#define PRS_CURSIG 12
#define PRS_SIGPEND 16
#define PRS_SIGHOLD 24
#define PRS_PID 32
#define PRS_REG 112
#define PRPS_SNAME 1
#define PRPS_UID 16
#define PRPS_GID 20
#define PRPS_PID 24
#define PRPS_FNAME 40
#define PRPS_PSARGS 56
#define PRPS_SIZE 136

typedef struct info_impl {
	ml_core_info pub;
	uint8_t *data;         /* the copied notes */
	ml_core_thread *th;
	ml_core_file *files;
	ml_core_note *notes;
} info_impl;

static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

void ml_core_info_free(ml_core_info *ci)
{
	if (!ci)
		return;
	info_impl *x = (info_impl *)ci;
	free(x->data);
	free(x->th);
	free(x->files);
	free(x->notes);
	free(x);
}

/* the program counter and stack pointer: index in pr_reg of each, by machine */
static bool regs_of(uint16_t machine, const uint8_t *desc, size_t len, uint64_t *pc, uint64_t *sp)
{
	size_t ipc, isp;
	if (machine == EM_X86_64) {
		ipc = 16; /* r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx rsi rdi orig_rax rip cs eflags rsp */
		isp = 19;
	} else if (machine == EM_AARCH64) {
		ipc = 32; /* x0-x30, sp, pc, pstate */
		isp = 31;
	} else {
		return false;
	}
	if (len < PRS_REG + (ipc + 1) * 8 || len < PRS_REG + (isp + 1) * 8)
		return false;
	*pc = rd64(desc + PRS_REG + ipc * 8);
	*sp = rd64(desc + PRS_REG + isp * 8);
	return true;
}

static int parse_file(info_impl *x, const uint8_t *d, size_t len)
{
	if (len < 16)
		return -EBADMSG;
	uint64_t cnt = rd64(d), psz = rd64(d + 8);
	if (cnt > (len - 16) / 24 || (cnt && (psz == 0 || (psz & (psz - 1)) || psz > (1u << 30))))
		return -EBADMSG;
	x->files = calloc(cnt ? cnt : 1, sizeof(*x->files));
	if (!x->files)
		return -ENOMEM;
	const char *nm = (const char *)d + 16 + cnt * 24, *nend = (const char *)d + len;
	for (uint64_t i = 0; i < cnt; i++) {
		const char *z = nm < nend ? memchr(nm, 0, (size_t)(nend - nm)) : NULL;
		if (!z)
			return -EBADMSG;
		const uint8_t *e = d + 16 + i * 24;
		uint64_t pg = rd64(e + 16);
		x->files[i] = (ml_core_file){ .start = rd64(e), .end = rd64(e + 8),
					      .offset = pg <= UINT64_MAX / psz ? pg * psz : UINT64_MAX,
					      .name = nm, .name_len = (size_t)(z - nm) };
		nm = z + 1;
	}
	x->pub.files = x->files;
	x->pub.nfiles = (size_t)cnt;
	return 0;
}

/* The owner of the note whose name field (@nsz bytes, padding excluded) is at @name, when it
 * is NUL-terminated within its size; "" otherwise. Both passes below must agree on it. */
static const char *note_owner(const char *name, uint32_t nsz)
{
	return nsz && name[nsz - 1] == 0 ? name : "";
}

int ml_core_info_parse(const void *notes, size_t len, uint16_t machine, ml_core_info **ret)
{
	if ((!notes && len) || !ret)
		return -EINVAL;
	info_impl *x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->pub.machine = machine;
	x->data = malloc(len ? len : 1);
	if (!x->data) {
		free(x);
		return -ENOMEM;
	}
	if (len)
		memcpy(x->data, notes, len);
	/* first pass: count */
	size_t n = 0, nth = 0, off = 0;
	const uint8_t *p = x->data;
	int r = 0;
	while (off < len) {
		if (len - off < 12) {
			r = -EBADMSG;
			break;
		}
		uint64_t na = ((uint64_t)rd32(p + off) + 3) & ~3ull, da = ((uint64_t)rd32(p + off + 4) + 3) & ~3ull;
		if (na > len - off - 12 || da > len - off - 12 - na) {
			r = -EBADMSG;
			break;
		}
		if (!strcmp(note_owner((const char *)p + off + 12, rd32(p + off)), "CORE") &&
		    rd32(p + off + 8) == NT_PRSTATUS)
			nth++;
		n++;
		off += 12 + na + da;
	}
	if (r == 0) {
		x->notes = calloc(n ? n : 1, sizeof(*x->notes));
		x->th = calloc(nth ? nth : 1, sizeof(*x->th));
		if (!x->notes || !x->th)
			r = -ENOMEM;
	}
	bool have_file = false;
	for (off = 0; r == 0 && off < len;) {
		uint32_t nsz = rd32(p + off), dsz = rd32(p + off + 4), type = rd32(p + off + 8);
		uint64_t na = ((uint64_t)nsz + 3) & ~3ull, da = ((uint64_t)dsz + 3) & ~3ull;
		char *name = (char *)x->data + off + 12;
		const uint8_t *desc = p + off + 12 + na;
		/* an owner is NUL-terminated within its size; one that is not is shown empty */
		const char *owner = note_owner(name, nsz);
		x->notes[x->pub.nnotes++] = (ml_core_note){ owner, type, desc, dsz };
		bool core = !strcmp(owner, "CORE");
		if (core && type == NT_PRSTATUS) {
			if (dsz < PRS_REG) {
				r = -EBADMSG;
				break;
			}
			if (x->pub.nthreads >= nth) { /* the count above disagrees: never write past it */
				r = -EBADMSG;
				break;
			}
			ml_core_thread *t = &x->th[x->pub.nthreads++];
			int16_t cs;
			memcpy(&cs, desc + PRS_CURSIG, 2);
			int32_t tid;
			memcpy(&tid, desc + PRS_PID, 4);
			t->tid = tid;
			t->cursig = cs;
			t->sigpend = rd64(desc + PRS_SIGPEND);
			t->sighold = rd64(desc + PRS_SIGHOLD);
			t->have_regs = regs_of(machine, desc, dsz, &t->pc, &t->sp);
		} else if (core && type == NT_PRPSINFO && !x->pub.have_prpsinfo) {
			if (dsz < PRPS_SIZE) {
				r = -EBADMSG;
				break;
			}
			x->pub.have_prpsinfo = true;
			x->pub.state = (char)desc[PRPS_SNAME];
			x->pub.uid = rd32(desc + PRPS_UID);
			x->pub.gid = rd32(desc + PRPS_GID);
			int32_t v[4];
			memcpy(v, desc + PRPS_PID, 16);
			x->pub.pid = v[0];
			x->pub.ppid = v[1];
			x->pub.pgrp = v[2];
			x->pub.sid = v[3];
			memcpy(x->pub.comm, desc + PRPS_FNAME, 16);
			memcpy(x->pub.psargs, desc + PRPS_PSARGS, 80);
		} else if (core && type == NT_SIGINFO && !x->pub.have_siginfo) {
			if (dsz < 32) {
				r = -EBADMSG;
				break;
			}
			int32_t v[3];
			memcpy(v, desc, 12);
			x->pub.have_siginfo = true;
			x->pub.signo = v[0];
			x->pub.sigerrno = v[1];
			x->pub.sigcode = v[2];
			/* the union after the three ints is 8-aligned on 64-bit */
			if (v[0] == 11 || v[0] == 7 || v[0] == 4 || v[0] == 8 || v[0] == 5)
				x->pub.sigaddr = rd64(desc + 16);
			if (v[2] <= 0) {
				int32_t spid;
				memcpy(&spid, desc + 16, 4);
				x->pub.sender_pid = spid;
				x->pub.sender_uid = rd32(desc + 20);
			}
		} else if (core && type == NT_AUXV && !x->pub.auxv) {
			x->pub.auxv = desc;
			x->pub.auxv_len = dsz;
		} else if (core && type == NT_FILE && !have_file) {
			have_file = true;
			r = parse_file(x, desc, dsz);
		}
		off += 12 + na + da;
	}
	if (r < 0) {
		ml_core_info_free(&x->pub);
		return r;
	}
	/* without NT_PRPSINFO (some writers leave it out) the first thread names the process */
	if (!x->pub.have_prpsinfo && x->pub.nthreads)
		x->pub.pid = x->th[0].tid;
	x->pub.threads = x->th;
	x->pub.notes = x->notes;
	*ret = &x->pub;
	return 0;
}

int ml_source_core_info(const ml_source *s, ml_core_info **ret)
{
	if (!s || !ret)
		return -EINVAL;
	const uint8_t *notes;
	size_t len;
	uint16_t machine;
	int r = ml__source_notes(s, &notes, &len, &machine);
	if (r < 0)
		return r;
	return ml_core_info_parse(notes, len, machine, ret);
}
