/* memlens grep: one source (a process, a snapshot or a raw image): its regions, its reads, its search from start to exit code. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "grep/command.h"
/* Reads through @via (a worker's own view of the source) or the raw image. @populated: the
 * range was just seen as data runs, so the source need not walk its pages again. */
ssize_t grep_read(const src *s, const ml_source *via, uint64_t addr, void *buf, size_t len,
		  bool populated)
{
	if (!s->s) {
		if (addr < s->o->base)
			return -EFAULT;
		ssize_t r = pread(s->raw_fd, buf, len, (off_t)(addr - s->o->base));
		return r < 0 ? -errno : r;
	}
	return ml_source_read(via, addr, buf, len, (s->o->swapped ? ML_READ_SWAPPED : 0) |
						   (populated ? ML_READ_POPULATED : 0));
}

long grep_heap_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	const src *s = ctx;
	return (long)grep_read(s, s->s, addr, buf, len, false);
}

/* The size of a --raw image: a regular file's, or a block device's. Anything else (a pipe,
 * a terminal, a character device) has no size to search up to and cannot be read at an
 * offset: -ESPIPE. */
static int raw_size(int fd, uint64_t *ret)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISREG(st.st_mode)) {
		*ret = (uint64_t)st.st_size;
		return 0;
	}
	if (S_ISBLK(st.st_mode)) {
		uint64_t n;
		if (ioctl(fd, BLKGETSIZE64, &n) < 0)
			return -errno;
		*ret = n;
		return 0;
	}
	return -ESPIPE;
}

static bool region_selected(const gopts *o, const ml_vma *v)
{
	if (o->kinds) {
		if (!(o->kinds >> v->kind & 1))
			return false;
	} else if (v->kind == ML_VMA_VVAR || v->kind == ML_VMA_VSYSCALL) {
		return false; /* not readable as memory; only when asked for by --kind */
	}
	if (o->perm) {
		char p[5];
		ml_vma_perms_str(v->perms, p);
		for (size_t i = 0; o->perm[i]; i++)
			if (o->perm[i] != '?' && o->perm[i] != p[i])
				return false;
	}
	if (o->name && !cli_name_match(o->name, v->name ? v->name : "", v->name ? v->name_len : 0))
		return false;
	if (o->have_addr && (v->end <= o->alo || v->start >= o->ahi))
		return false;
	return true;
}

static int build_units(src *s)
{
	const gopts *o = s->o;
	size_t nm = s->maps ? ml_maps_count(s->maps) : 1;
	s->regions = calloc(nm ? nm : 1, sizeof(region));
	if (!s->regions)
		return -ENOMEM;
	if (!s->maps) {
		uint64_t size = 0, end; /* set by raw_size() on success */
		int r = raw_size(s->raw_fd, &size);
		if (r < 0)
			return r;
		if (!gp_image_end(o->base, size, &end))
			return -ERANGE;
		ml_vma v = { .start = o->base, .end = end,
			     .perms = ML_PERM_READ, .kind = ML_VMA_ANON, .name = s->label,
			     .name_len = strlen(s->label) };
		if (size > 0 && region_selected(o, &v))
			s->regions[s->nregions++] = (region){ v, v.start, v.end };
		nm = s->nregions;
	} else {
		for (size_t i = 0; i < nm; i++) {
			const ml_vma *v = ml_maps_get(s->maps, i);
			if (!region_selected(o, v))
				continue;
			s->regions[s->nregions++] = (region){ *v, v->start, v->end };
		}
	}
	for (size_t i = 0; o->have_addr && i < s->nregions; i++) {
		region *r = &s->regions[i];
		if (r->lo < o->alo)
			r->lo = o->alo;
		if (r->hi > o->ahi)
			r->hi = o->ahi;
	}
	return 0;
}

/* Searches one source; returns 0 matched, 1 no match, 2 error, GREP_DAMAGED damaged stored
 * data was skipped (a partial result: exit 1 whether or not something matched). */
int grep_source(const gopts *o, const gp_set *set, const char *spec, pid_t pid, bool quiet_errors,
		       atomic_bool *global_stop)
{
	src *s = calloc(1, sizeof(*s));
	if (!s)
		return CLI_EXIT_ERROR;
	s->o = o;
	s->set = set;
	s->raw_fd = -1;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	char pidbuf[24];
	int rc = CLI_EXIT_ERROR, r;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (o->raw) {
		s->label = spec;
		s->raw_fd = open(spec, O_RDONLY | O_CLOEXEC);
		if (s->raw_fd < 0) {
			cli_file_error(spec, "cannot open", -errno);
			goto out;
		}
		uint64_t size = 0, end; /* set by raw_size() on success */
		r = raw_size(s->raw_fd, &size);
		if (r == -ESPIPE) {
			/* a pipe would be searched as empty: "no match" where nothing was looked at */
			cli_warn("%s: cannot search: --raw reads a regular file or a block device (save a stream "
				 "to a file first)", spec);
			goto out;
		}
		if (r < 0) {
			cli_file_error(spec, "cannot read", r);
			goto out;
		}
		if (!gp_image_end(o->base, size, &end)) {
			rc = cli_usage_error(&grep_cmd, "%s: %llu bytes at --base 0x%llx would pass the top of the address space",
					     spec, (unsigned long long)size, (unsigned long long)o->base);
			goto out;
		}
	} else {
		if (pid) {
			snprintf(pidbuf, sizeof(pidbuf), "%d", (int)pid);
			spec = pidbuf;
		}
		r = ml_source_open(spec, &s->s);
		if (r < 0) {
			const char *why = ml_error_detail();
			if (!quiet_errors) {
				if (pid || cli_parse_pid(spec, &pid))
					cli_pid_error(pid, "cannot open", r);
				else if (*why && r == -ELIBACC)
					cli_warn("%s: cannot open snapshot: %s", spec, why);
				else if (*why)
					cli_warn("%s: not a valid snapshot or core: %s", spec, why);
				else
					cli_file_error(spec, "cannot open snapshot", r);
			}
			rc = r == -ESRCH && quiet_errors ? CLI_EXIT_PARTIAL : CLI_EXIT_ERROR;
			goto out;
		}
		if (!quiet_errors && ml_source_notice(s->s))
			cli_warn("%s: %s", spec, ml_source_notice(s->s));
		if (ml_source_partial(s->s))
			cli_warn("%s: partial: %s", spec, ml_source_partial(s->s));
		s->pid = ml_source_pid(s->s);
		s->label = ml_source_get_type(s->s) == ML_SOURCE_LIVE ? (snprintf(pidbuf, sizeof(pidbuf), "%d", (int)s->pid), pidbuf) : spec;
		r = ml_source_maps(s->s, &s->maps);
		if (r < 0) {
			if (!quiet_errors)
				cli_pid_error(s->pid, "cannot read the mappings", r);
			rc = r == -ESRCH && quiet_errors ? CLI_EXIT_PARTIAL : CLI_EXIT_ERROR;
			goto out;
		}
	}
	s->counts = calloc(gp_set_users(set) ? gp_set_users(set) : 1, sizeof(uint64_t));
	if (!s->counts || build_units(s) < 0) {
		fprintf(stderr, "memlens grep: out of memory\n");
		goto out;
	}
	for (size_t i = 0; i < s->nregions; i++)
		s->total += s->regions[i].hi - s->regions[i].lo;
	r = grep_run_workers(s, o->jobs);
	progress_clear(&grep_progress);
	if (r < 0) {
		fprintf(stderr, "memlens grep: %s: %s\n", s->label, ml_strerror(r));
		goto out;
	}
	/* a source that says it is incomplete (a core file cut short) reads what is missing as
	 * unreadable runs: bytes it should hold and does not, a failure like damaged data, not
	 * memory the process itself could not have read */
	bool incomplete = s->s && ml_source_partial(s->s);
	if (incomplete) {
		s->st.err_bytes[ERR_UNREADABLE] += s->st.skipped[ML_RUN_UNREADABLE];
		s->st.skipped[ML_RUN_UNREADABLE] = 0;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	grep_print_summary(s, (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	if (s->printed && o->quiet)
		atomic_store(global_stop, true);
	/* a scan that read nothing because of an error is an error, not "no match"; damaged or
	 * missing stored data makes the result partial even where something matched */
	if ((s->st.err_bytes[ERR_DAMAGED] || incomplete) && !(s->printed && o->quiet))
		rc = GREP_DAMAGED;
	else if (s->printed)
		rc = CLI_EXIT_OK;
	else if (grep_gone_unread(s))
		rc = CLI_EXIT_ERROR; /* the summary said why */
	else if (s->first_err && !s->st.scanned && s->first_err != -ESRCH)
		rc = CLI_EXIT_ERROR;
	else
		rc = CLI_EXIT_PARTIAL;
	if (rc == CLI_EXIT_ERROR && !grep_gone_unread(s))
		fprintf(stderr, "memlens grep: %s: nothing could be %s: %s\n", s->label,
			s->first_err == GREP_ERR_SCAN ? "searched" : "read", grep_strerror(s));
out:
	fflush(stdout);
	for (size_t i = 0; i < s->nheaps; i++)
		gp_heap_free(s->heaps[i].h);
	for (size_t i = 0; s->ring && i < s->nring; i++) {
		free(s->ring[i].out);
		free(s->ring[i].hits);
	}
	free(s->ring);
	free(s->regions);
	free(s->counts);
	ml_maps_free(s->maps);
	ml_source_free(s->prod_own);
	ml_source_free(s->s);
	if (s->raw_fd >= 0)
		close(s->raw_fd);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s);
	return rc;
}
