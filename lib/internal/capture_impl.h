/* The pure parts of capture (mapping selection, core note layouts), for lib/capture.c and its unit tests. */
#ifndef MEMLENS_INTERNAL_CAPTURE_IMPL_H
#define MEMLENS_INTERNAL_CAPTURE_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <memlens/maps.h>
#include <memlens/smaps.h>

/* coredump_filter bits (MMF_DUMP_*). */
#define ML__CDF_ANON_PRIVATE    0x01u
#define ML__CDF_ANON_SHARED     0x02u
#define ML__CDF_MAPPED_PRIVATE  0x04u
#define ML__CDF_MAPPED_SHARED   0x08u
#define ML__CDF_ELF_HEADERS     0x10u
#define ML__CDF_HUGETLB_PRIVATE 0x20u
#define ML__CDF_HUGETLB_SHARED  0x40u
#define ML__CDF_DAX_PRIVATE     0x80u
#define ML__CDF_DAX_SHARED      0x100u

/* What the kernel would know about a mapping's file that smaps does not say. */
typedef struct ml__file_facts {
	bool known;      /* the file could be examined */
	bool exec;       /* any x bit in its mode */
	bool elf_magic;  /* it starts with \177ELF */
} ml__file_facts;

/* Flags of ml__dump_size(). */
#define ML__SEL_INCLUDE_DONTDUMP 0x1u

/*
 * How many bytes from the start of @v the kernel's core dump would contain under
 * coredump_filter @filter (fs/coredump.c vma_dump_size): the whole mapping, one page
 * (ELF headers of a file mapping), or 0. "Has an anon_vma" is approximated by smaps
 * Anonymous/Swap > 0 (an anonymous mapping never written dumps as nothing, as there).
 */
uint64_t ml__dump_size(const ml_smaps_vma *v, uint64_t filter, unsigned flags, const ml__file_facts *ff);
/* True for mappings whose pages cannot be read at all ([vvar]-like VM_IO/VM_PFNMAP). */
bool ml__vma_unreadable(const ml_smaps_vma *v);

/* ---- core notes in the kernel's byte layouts (x86_64) ---- */

#define ML__NT_PRSTATUS 1
#define ML__NT_FPREGSET 2
#define ML__NT_PRPSINFO 3
#define ML__NT_AUXV 6
#define ML__NT_SIGINFO 0x53494749
#define ML__NT_FILE 0x46494c45
#define ML__NT_X86_XSTATE 0x202
#define ML__NT_X86_XSAVE_LAYOUT 0x205

#define ML__PRSTATUS_SIZE 336
#define ML__PRPSINFO_SIZE 136
#define ML__SIGINFO_SIZE 128

/* What NT_PRSTATUS says about one thread besides its registers. */
typedef struct ml__thread_info {
	pid_t tid, ppid, pgrp, sid;
	int cursig;
	uint64_t sigpend, sighold;     /* first word of the thread's pending and blocked sets */
	uint64_t utime_us, stime_us, cutime_us, cstime_us;
} ml__thread_info;

/* Fills @out (ML__PRSTATUS_SIZE bytes) from @ti and the 216-byte general registers @regs. */
void ml__note_prstatus(const ml__thread_info *ti, const void *regs, size_t regs_len, bool fpvalid,
		       unsigned char out[ML__PRSTATUS_SIZE]);

typedef struct ml__proc_info {
	pid_t pid, ppid, pgrp, sid;
	char state;        /* stat letter */
	int nice;
	uint64_t flags;    /* PF_* from stat */
	uint32_t uid, gid; /* real */
	const char *comm; size_t comm_len;
	const char *cmdline; size_t cmdline_len;
} ml__proc_info;

/* Fills @out (ML__PRPSINFO_SIZE bytes) as the kernel's fill_psinfo(). */
void ml__note_prpsinfo(const ml__proc_info *pi, unsigned char out[ML__PRPSINFO_SIZE]);

/*
 * Builds NT_FILE (count, page size, start/end/page offset triples, then the NUL-terminated
 * names) over the file-backed mappings of @s into a malloc'd buffer.
 * @return 0; -ENOMEM.
 */
int ml__note_file(const ml_smaps *s, uint64_t page_size, unsigned char **ret, size_t *ret_len);

/*
 * Fills @out (16 bytes per feature, room for 64) with NT_X86_XSAVE_LAYOUT as the kernel
 * writes it (6.12+, once per core after the threads): for each bit from 2 up set in the
 * user xfeature mask @features, {type, size, offset, flags 0} with the size and offset of
 * that feature in the standard XSAVE layout (@size[i], @offset[i]: CPUID leaf 0xD).
 * @return the bytes filled in.
 */
size_t ml__note_xsave_layout(uint64_t features, const uint32_t size[64], const uint32_t offset[64],
			     unsigned char out[64 * 16]);
/*
 * The user xfeature mask (what ptrace's NT_X86_XSTATE holds at byte 464, or XCR0) and the
 * standard-format sizes and offsets of those features from this CPU.
 * @return 0; -EOPNOTSUPP not x86_64 or no XSAVE.
 */
int ml__xsave_cpu_layout(uint64_t *features, uint32_t size[64], uint32_t offset[64]);

/* True if the mapping has a backing file (NT_FILE lists it). */
bool ml__vma_has_file(const ml_vma *v);

/* Parses the fields of a stat line ("PID (comm) S ppid pgrp sid ..."): field @n (1-based, as proc(5)). */
int ml__stat_field(const char *buf, size_t len, int n, int64_t *ret);
/* "Name:\t..." field of status text: the first number (dec) or hex for Sig* masks. */
int ml__status_num(const char *buf, size_t len, const char *name, bool hex, uint64_t *ret);

#endif
