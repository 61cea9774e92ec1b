/* memlens wss --probe (which backends and flushes this machine and process allow) and --reset-peak. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/table.h"
#include "wss/wss.h"

int wss_probe(const opts *o, ml_proc *p)
{
	ml_wss_probe_info pi[ML_WSS_BACKEND_COUNT];
	ml_wss_backend best = ML_WSS_AUTO;
	for (int b = ML_WSS_REFERENCED; b < ML_WSS_BACKEND_COUNT; b++) {
		ml_wss_probe((ml_wss_backend)b, p, &pi[b]);
		if (pi[b].status == 0 && best == ML_WSS_AUTO)
			best = (ml_wss_backend)b;
	}
	ml_soft_dirty_state sds = ML_SOFT_DIRTY_UNKNOWN;
	int sd = ml_clear_refs_probe(&sds) < 0 ? -1 : sds == ML_SOFT_DIRTY_ABSENT ? 0 : sds == ML_SOFT_DIRTY_WORKS ? 1 : -1;
	const char *flush = sd == 0 ? "yes: soft-dirty is compiled out, so clear_refs 4 after the clear flushes "
				      "the TLB with no other effect"
			  : sd == 1 ? "no: soft-dirty is compiled in and clear_refs 4 would wipe its state; "
				      "accesses right after a clear may be missed"
				    : "unknown: soft-dirty could not be probed";
	if (o->json) {
		json_writer j;
		json_init(&j, stdout);
		json_obj_begin(&j);
		JSON_KSTR(&j, "schema", "memlens.wss-probe/1");
		if (p)
			JSON_KI64(&j, "pid", ml_proc_pid(p));
		JSON_KSTR(&j, "default", best == ML_WSS_AUTO ? "none" : ml_wss_backend_name(best));
		JSON_KBOOL(&j, "tlb_flush", sd == 0);
		JSON_KSTR(&j, "tlb_flush_reason", flush);
		json_key(&j, "backends");
		json_arr_begin(&j);
		for (int b = ML_WSS_REFERENCED; b < ML_WSS_BACKEND_COUNT; b++) {
			json_obj_begin(&j);
			JSON_KSTR(&j, "name", ml_wss_backend_name((ml_wss_backend)b));
			JSON_KBOOL(&j, "available", pi[b].status == 0);
			JSON_KSTR(&j, "reason", pi[b].reason);
			if (pi[b].status)
				JSON_KSTR(&j, "error", ml_strerror(pi[b].status));
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_obj_end(&j);
		json_line_end(&j);
	} else {
		static const char *const hc[] = { "BACKEND", "STATUS", "DETAIL" };
		static const bool hr[] = { false, false, false };
		table *tb = table_new(3, hc, hr);
		for (int b = ML_WSS_REFERENCED; tb && b < ML_WSS_BACKEND_COUNT; b++) {
			char st[48];
			snprintf(st, sizeof(st), "%s%s", pi[b].status == 0 ? "available" : "not available",
				 (ml_wss_backend)b == best ? " (default)" : "");
			const char *cells[3] = { ml_wss_backend_name((ml_wss_backend)b), st, pi[b].reason };
			table_add(tb, cells);
		}
		table_print(tb, stdout);
		table_free(tb);
		printf("\nTLB flush after clear_refs 1-3: %s\n", flush);
		if (p)
			printf("checked against pid %d\n", (int)ml_proc_pid(p));
	}
	return best == ML_WSS_AUTO ? CLI_EXIT_PARTIAL : CLI_EXIT_OK;
}

static long status_kb(ml_proc *p, const char *key)
{
	char *buf;
	size_t len;
	if (ml_proc_read_file(p, "status", &buf, &len) < 0)
		return -1;
	long v = -1;
	size_t kl = strlen(key);
	for (char *l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, key, kl) && l[kl] == ':') {
			v = strtol(l + kl + 1, NULL, 10);
			break;
		}
	free(buf);
	return v;
}

int wss_reset_peak(const opts *o, target *t)
{
	long before = status_kb(t->p, "VmHWM");
	int r = ml_clear_refs_write(t->p, ML_CLEAR_REFS_PEAK_RSS);
	if (r < 0) {
		wss_target_lost(t, "cannot reset the peak RSS", r);
		return CLI_EXIT_ERROR;
	}
	long after = status_kb(t->p, "VmHWM");
	if (o->json) {
		json_writer j;
		json_init(&j, stdout);
		json_obj_begin(&j);
		JSON_KSTR(&j, "schema", "memlens.wss-reset-peak/1");
		JSON_KI64(&j, "pid", t->pid);
		JSON_KI64(&j, "vmhwm_before", before < 0 ? -1 : before * 1024);
		JSON_KI64(&j, "vmhwm_after", after < 0 ? -1 : after * 1024);
		json_obj_end(&j);
		json_line_end(&j);
	} else {
		char a[32], b[32];
		printf("pid %d: peak RSS (VmHWM) reset: %s -> %s\n", (int)t->pid,
		       before < 0 ? "?" : sz(a, o, (uint64_t)before * 1024),
		       after < 0 ? "?" : sz(b, o, (uint64_t)after * 1024));
	}
	return CLI_EXIT_OK;
}
