/* memlens wss: the options, the processes measured and what the files of tools/wss/ share. */
#ifndef MEMLENS_TOOLS_WSS_WSS_H
#define MEMLENS_TOOLS_WSS_WSS_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <memlens/memlens.h>

#include "common/cli.h"
#include "common/select.h"

enum mode { MODE_ONESHOT, MODE_REPEAT, MODE_CUMULATIVE, MODE_PROFILE };
extern const char *const wss_mode_names[];

/* One mapping's WSS over the samples of a picture (NAN where it was not measured). */
typedef struct rseries {
	uint64_t start;
	char *label;
	double *v, peak;
} rseries;

typedef struct target {
	pid_t pid;
	ml_proc *p;
	ml_wss *w;
	char comm[64];
	bool dead;
	/* what --svg draws */
	size_t ns, scap;
	double *st, *swss, *srss;
	rseries *rs;
	size_t nrs;
} target;

typedef struct opts {
	uint64_t interval;
	long count;
	bool count_set;
	enum mode mode;
	ml_wss_backend backend;
	ml_wss_scope scope;
	ml_wss_flush flush;
	bool regions, json, csv, bytes, human, probe, reset_peak, prom;
	const char *textfile;
	long top;
	const char *svg;
	bool force;
	const char *svg_backend;
	target *t;
	size_t nt;
	selection sel;
} opts;

/* Per run of windows: how many rows, when it started, whether the text header is due. */
typedef struct emitter {
	size_t rows;
	uint64_t t0;
	bool header;
} emitter;

/* Set by SIGINT and SIGTERM: the series stops after the window it is in. */
extern volatile sig_atomic_t wss_interrupted;

/* A size as the options ask (--bytes, or binary units on a terminal); nanoseconds as milliseconds. */
static inline const char *sz(char buf[32], const opts *o, uint64_t v) { return cli_fmt_size(buf, v, o->human); }
static inline double ms(uint64_t ns) { return (double)ns / 1e6; }

/* output.c: one sample in the chosen format (text, JSON, CSV, Prometheus rows; --svg records it). */
void wss_emit(opts *o, emitter *e, target *t, long idx, const ml_wss_sample *s, uint64_t nominal);
void wss_print_csv_header(void);
const char *wss_scope_name(ml_wss_scope s);
/* --prometheus: writes the window's rows (stdout or the textfile); 0, CLI_EXIT_PARTIAL (the
 * textfile is in place but its directory could not be synced) or CLI_EXIT_ERROR. */
int wss_prom_flush(const opts *o);
void wss_prom_free(void);

/* picture.c: the series --svg draws. */
int wss_svg_record(const opts *o, target *t, const ml_wss_sample *s, uint64_t t0);
int wss_svg_write(const opts *o);
void wss_svg_free(target *t);

/* measure.c: the windows over time. */
void wss_read_comm(target *t);
/* Marks @t dead after an error, saying so once. */
void wss_target_lost(target *t, const char *what, int err);
int wss_alive_count(const opts *o);
int wss_measure(opts *o);

/* probe.c: --probe and --reset-peak. */
int wss_probe(const opts *o, ml_proc *p);
int wss_reset_peak(const opts *o, target *t);

#endif
