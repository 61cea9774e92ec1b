/* memlens wss: the measurement: windows opened on every process, timed, read, and handed to the output. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wss/wss.h"

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Sleeps until CLOCK_MONOTONIC reaches @deadline, or a signal asks to stop. */
static void sleep_until(uint64_t deadline)
{
	struct timespec ts = { (time_t)(deadline / 1000000000u), (long)(deadline % 1000000000u) };
	while (!wss_interrupted && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

void wss_read_comm(target *t)
{
	char *buf;
	size_t len;
	snprintf(t->comm, sizeof(t->comm), "?");
	if (ml_proc_read_file(t->p, "comm", &buf, &len) == 0) {
		size_t k = 0;
		for (size_t i = 0; i < len && buf[i] != '\n' && k + 1 < sizeof(t->comm); i++)
			t->comm[k++] = (buf[i] >= 0x20 && buf[i] < 0x7f) ? buf[i] : '?';
		t->comm[k] = '\0';
		free(buf);
	}
}

/* Reports why a target can no longer be measured; marks it dead. */
void wss_target_lost(target *t, const char *what, int err)
{
	t->dead = true;
	if (err != -ESRCH) {
		if (err == -EACCES || err == -EPERM)
			fprintf(stderr, "memlens: pid %d: %s: %s (clear_refs needs the process's owner or "
				"CAP_SYS_ADMIN; smaps needs ptrace read access)\n", (int)t->pid, what,
				ml_strerror(err));
		else
			cli_pid_error(t->pid, what, err);
		return;
	}
	switch (ml_wss_target_state(t->p)) {
	case ML_WSS_TARGET_ZOMBIE:
		fprintf(stderr, "memlens: pid %d: %s: the process exited (a zombie: clear_refs would do "
			"nothing, smaps is empty)\n", (int)t->pid, what);
		break;
	case ML_WSS_TARGET_EXECED:
		fprintf(stderr, "memlens: pid %d: %s: the process exec'd a new program during the window: "
			"the address space measured is gone\n", (int)t->pid, what);
		break;
	default:
		fprintf(stderr, "memlens: pid %d: %s: the process exited during the window\n", (int)t->pid, what);
		break;
	}
}

static int start_all(opts *o)
{
	ML_OPTS(ml_wss_opts, wo, .backend = o->backend, .scope = o->scope, .flush = o->flush);
	size_t ok = 0;
	for (size_t i = 0; i < o->nt; i++) {
		target *t = &o->t[i];
		if (t->dead)
			continue;
		int r = t->w ? ml_wss_restart(t->w) : ml_wss_start(t->p, &wo, &t->w);
		if (r < 0) {
			if (r == -EOPNOTSUPP) {
				ml_wss_probe_info pi = { 0 };
				if (o->backend != ML_WSS_AUTO)
					ml_wss_probe(o->backend, t->p, &pi);
				fprintf(stderr, "memlens: pid %d: backend %s unavailable: %s\n", (int)t->pid,
					ml_wss_backend_name(o->backend), pi.reason ? pi.reason : "no backend works here "
					"(see memlens wss --probe)");
				t->dead = true;
			} else {
				wss_target_lost(t, "cannot open the window", r);
			}
			continue;
		}
		ok++;
	}
	return ok ? 0 : -1;
}

static size_t read_all(opts *o, emitter *e, long idx, uint64_t nominal)
{
	size_t ok = 0;
	for (size_t i = 0; i < o->nt; i++) {
		target *t = &o->t[i];
		if (t->dead || !t->w)
			continue;
		ml_wss_sample *s = NULL;
		int r = ml_wss_read(t->w, &s);
		if (r < 0) {
			wss_target_lost(t, "cannot read the window", r);
			continue;
		}
		wss_emit(o, e, t, idx, s, nominal);
		ml_wss_sample_free(s);
		ok++;
	}
	return ok;
}

int wss_alive_count(const opts *o)
{
	int n = 0;
	for (size_t i = 0; i < o->nt; i++)
		n += !o->t[i].dead;
	return n;
}

int wss_measure(opts *o)
{
	emitter e = { 0 };
	if (o->csv)
		wss_print_csv_header();
	long count = o->count_set ? o->count : o->mode == MODE_PROFILE ? 8 : o->mode == MODE_CUMULATIVE ? 0 : 1;
	int rc = CLI_EXIT_OK;
	bool unsynced = false;
	e.t0 = mono_ns();
	if (start_all(o) < 0) {
		rc = CLI_EXIT_ERROR;
		goto out;
	}
	/* cumulative and profile windows are timed from the end of the clears */
	uint64_t origin = mono_ns();
	for (long i = 0; (count == 0 || i < count) && !wss_interrupted && wss_alive_count(o); i++) {
		uint64_t nominal;
		if (o->mode == MODE_REPEAT || o->mode == MODE_ONESHOT) {
			if (i > 0 && start_all(o) < 0)
				break;
			origin = mono_ns();
			nominal = o->interval;
		} else if (o->mode == MODE_CUMULATIVE) {
			nominal = o->interval * (uint64_t)(i + 1);
		} else {
			nominal = o->interval << (i < 40 ? i : 40);
		}
		sleep_until(origin + nominal);
		/* interrupted mid-window: still report it (its real length is in the record) */
		if (!read_all(o, &e, i, nominal) || wss_interrupted)
			break;
		int pr = o->prom ? wss_prom_flush(o) : 0;
		if (pr == CLI_EXIT_ERROR)
			rc = CLI_EXIT_ERROR;
		else if (pr)
			unsynced = true; /* in place, but its name may not survive a crash (said) */
		if (cli_stdout_failed())
			break; /* nobody gets the samples: stop (reported at exit) */
	}
out:;
	size_t dead = 0;
	for (size_t i = 0; i < o->nt; i++)
		dead += o->t[i].dead;
	if (rc == CLI_EXIT_OK && dead)
		rc = dead == o->nt ? CLI_EXIT_ERROR : CLI_EXIT_PARTIAL;
	if (rc == CLI_EXIT_OK && unsynced)
		rc = CLI_EXIT_PARTIAL;
	return rc;
}
