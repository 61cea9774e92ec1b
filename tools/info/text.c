/* memlens info: the summary as text, for a person. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <sys/resource.h>

#include "common/cli.h"
#include "common/json.h"
#include "info/info.h"

/* Sizes in binary units; set by each info_print_text(). */
static bool human;

static const char *sz(char buf[32], uint64_t v) { return cli_fmt_size(buf, v, human); }

/* A size from status, or "-" for a line the kernel did not write. */
static const char *ssz(char buf[32], const ml_status *s, ml_status_key k, uint64_t v)
{
	return ml_status_has(s, k) ? sz(buf, v) : "-";
}

static const char *lim(char buf[32], uint64_t v, bool bytes)
{
	if (v == ML_LIMIT_UNLIMITED)
		return "unlimited";
	if (bytes)
		return sz(buf, v);
	snprintf(buf, 32, "%llu", (unsigned long long)v);
	return buf;
}

static void put_arg(const ml_bstr *a)
{
	bool plain = a->len > 0;
	for (size_t i = 0; i < a->len; i++) {
		unsigned char c = (unsigned char)a->ptr[i];
		if (c <= ' ' || c == '\'' || c == '"' || c == '\\' || c >= 0x7f)
			plain = false;
	}
	if (plain) {
		fwrite(a->ptr, 1, a->len, stdout);
		return;
	}
	putchar('\'');
	cli_put_escaped(stdout, a->ptr, a->len);
	putchar('\'');
}

void info_print_text(const info *in, bool human_sizes)
{
	human = human_sizes;
	char b1[32], b2[32], b3[32], b4[32], b5[32], b6[32];
	const ml_status *s = in->status;
	printf("pid          %d", (int)in->pid);
	if (s) {
		printf("  ");
		cli_put_escaped(stdout, s->name, s->name_len);
		printf("  state %c", s->state);
		if (info_main_exited(s))
			printf(" (main thread exited; %llu other threads run)", (unsigned long long)s->threads - 1);
		else if (s->state_desc.len)
			printf(" (%.*s)", (int)s->state_desc.len, s->state_desc.ptr);
		if (s->kthread)
			printf("  kernel thread");
	}
	printf("%s\n", in->live ? "" : "  [snapshot]");
	printf("command      ");
	if (in->cmdline && in->cmdline->n) {
		for (size_t i = 0; i < in->cmdline->n; i++) {
			if (i)
				putchar(' ');
			put_arg(&in->cmdline->v[i]);
		}
	} else {
		printf(in->cmdline ? "(none)" : "-");
	}
	putchar('\n');
	if (in->live) {
		printf("executable   ");
		if (in->exe) {
			cli_put_escaped(stdout, in->exe->path, in->exe->len);
			printf("%s", in->exe->deleted ? "  (deleted)" : "");
		} else {
			printf("-");
		}
		printf("\ncwd          ");
		if (in->cwd) {
			cli_put_escaped(stdout, in->cwd->path, in->cwd->len);
			printf("%s", in->cwd->deleted ? "  (deleted)" : "");
		} else {
			printf("-");
		}
		putchar('\n');
	}
	if (s) {
		struct passwd *pw = getpwuid(s->uid[0]);
		printf("user         %s (uid %u", pw ? pw->pw_name : "?", (unsigned)s->uid[0]);
		if (s->uid[1] != s->uid[0])
			printf(", euid %u", (unsigned)s->uid[1]);
		printf(", gid %u)  parent %d\n", (unsigned)s->gid[0], (int)s->ppid);
		printf("threads      %llu%s\n", (unsigned long long)s->threads,
		       info_main_exited(s) ? " (with the main thread, which has exited)" : "");
	}
	if (in->live && in->nfds >= 0) {
		printf("descriptors  %zd open", in->nfds);
		if (in->have_limits && in->limits.lim[RLIMIT_NOFILE].present)
			printf(", limit %s", lim(b1, in->limits.lim[RLIMIT_NOFILE].soft, false));
		putchar('\n');
	}
	if (s && ml_status_has(s, ML_STATUS_VMRSS)) {
		/* each line of status by its own presence: RssAnon, RssFile and RssShmem came
		 * in Linux 4.5, and a line the kernel did not write is "-", not 0 */
		printf("memory       RSS %s", sz(b1, s->vm_rss));
		if (ml_status_has(s, ML_STATUS_RSSANON) || ml_status_has(s, ML_STATUS_RSSFILE) ||
		    ml_status_has(s, ML_STATUS_RSSSHMEM))
			printf(" (anon %s, file %s, shmem %s)", ssz(b2, s, ML_STATUS_RSSANON, s->rss_anon),
			       ssz(b3, s, ML_STATUS_RSSFILE, s->rss_file), ssz(b4, s, ML_STATUS_RSSSHMEM, s->rss_shmem));
		printf("  peak RSS %s\n", ssz(b5, s, ML_STATUS_VMHWM, s->vm_hwm));
		printf("             virtual %s (peak %s)  swap %s  locked %s  page tables %s\n",
		       ssz(b1, s, ML_STATUS_VMSIZE, s->vm_size), ssz(b2, s, ML_STATUS_VMPEAK, s->vm_peak),
		       ssz(b3, s, ML_STATUS_VMSWAP, s->vm_swap), ssz(b4, s, ML_STATUS_VMLCK, s->vm_lck),
		       ssz(b5, s, ML_STATUS_VMPTE, s->vm_pte));
	} else if (info_main_exited(s) && in->have_rollup) {
		/* an exited main thread's status has no memory lines; the address space is the
		 * other threads', whose totals smaps_rollup gives */
		printf("memory       RSS %s  swap %s  (from smaps: the exited main thread's status has none)\n",
		       sz(b1, in->rollup_rss), sz(b2, in->rollup_swap));
	}
	if (in->have_rollup && in->have_pss_split)
		printf("             PSS %s (anon %s, file %s, shmem %s)  USS %s  swap PSS %s\n", sz(b1, in->pss),
		       sz(b2, in->pss_anon), sz(b3, in->pss_file), sz(b4, in->pss_shmem), sz(b5, in->uss),
		       sz(b6, in->swap_pss));
	else if (in->have_rollup)
		printf("             PSS %s  USS %s  swap PSS %s\n", sz(b1, in->pss), sz(b5, in->uss),
		       sz(b6, in->swap_pss));
	const ml_ksm_stat *k = &in->ksm;
	if (in->have_ksm && (k->merging_pages || k->zero_pages || k->mergeable || k->merge_any)) {
		/* a line of ksm_stat this kernel did not write is "-" */
		uint64_t ps = ml_statm_page_size();
		printf("             KSM %s merged", k->present & (1u << 2) ? sz(b1, k->merging_pages * ps) : "-");
		printf(", %s to the zero page", k->present & (1u << 1) ? sz(b2, k->zero_pages * ps) : "-");
		if (k->present & (1u << 3))
			printf(", profit %s%s\n", k->process_profit < 0 ? "-" : "",
			       sz(b3, k->process_profit < 0 ? 0 - (uint64_t)k->process_profit : (uint64_t)k->process_profit));
		else
			printf(", profit -\n");
	}
	if (s && ml_status_has(s, ML_STATUS_THP_ENABLED))
		printf("             THP %s\n", s->thp_enabled ? "allowed" : "disabled for this process (prctl)");
	if (in->have_limits) {
		static const int show[] = { RLIMIT_AS, RLIMIT_DATA, RLIMIT_STACK, RLIMIT_MEMLOCK, RLIMIT_CORE, RLIMIT_RSS };
		static const char *const label[] = { "address space", "data", "stack", "locked memory", "core size", "rss" };
		for (size_t i = 0; i < sizeof(show) / sizeof(show[0]); i++) {
			const ml_limit *l = &in->limits.lim[show[i]];
			if (!l->present)
				continue;
			printf("%-13s%-14s %s", i ? "" : "limits", label[i], lim(b1, l->soft, true));
			if (l->hard != l->soft)
				printf(" (hard %s)", lim(b2, l->hard, true));
			putchar('\n');
		}
	}
	if (in->have_cdf) {
		printf("coredump     ");
		if (!in->cdf.set) {
			printf("no filter (no address space)\n");
		} else {
			printf("filter 0x%x:", in->cdf.mask);
			for (unsigned bit = 0; bit < 32; bit++)
				if (in->cdf.mask & (1u << bit)) {
					const char *n = ml_coredump_filter_bit_name(bit);
					n ? printf(" %s", n) : printf(" bit%u", bit);
				}
			putchar('\n');
		}
	}
	if (in->have_oom_score || in->have_oom_adj) {
		printf("oom          score %s", in->have_oom_score ? "" : "-");
		if (in->have_oom_score)
			printf("%d", in->oom_score);
		if (in->have_oom_adj)
			printf("  adj %d%s", in->oom_adj, in->oom_adj == -1000 ? " (never killed)" : "");
		putchar('\n');
	}
	if (in->cgroup_path) {
		printf("cgroup       ");
		cli_put_escaped(stdout, in->cgroup_path, strlen(in->cgroup_path));
		printf(" (v%d)", in->cgroup_version);
		if (in->have_cg_max)
			printf("  memory limit %s", in->cg_max == ML_CGROUP_UNLIMITED ? "none" : sz(b1, in->cg_max));
		if (in->have_cg_eff && in->cg_eff != ML_CGROUP_UNLIMITED &&
		    (!in->have_cg_max || in->cg_eff != in->cg_max))
			printf(" (bound by a parent: %s)", sz(b3, in->cg_eff));
		if (in->have_cg_current)
			printf("  usage %s", sz(b2, in->cg_current));
		if (in->have_cg_peak)
			printf(" (peak %s)", sz(b4, in->cg_peak));
		putchar('\n');
	}
	if (in->nns) {
		printf("namespaces  ");
		bool any = false;
		for (size_t i = 0; i < in->nns; i++)
			if (!in->ns[i].same_as_self) {
				printf(" %s:[%llu]", in->ns[i].name, (unsigned long long)in->ns[i].ino);
				any = true;
			}
		printf("%s\n", any ? "  (others as memlens's)" : " all the same as memlens's");
	}
}
