/* The Prometheus text exposition format (version 0.0.4) and its atomic textfile. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cli.h"
#include "common/prom.h"

void prom_family(FILE *f, const char *name, const char *help, const char *type)
{
	fprintf(f, "# HELP %s ", name);
	for (const char *p = help; *p; p++) {
		if (*p == '\\')
			fputs("\\\\", f);
		else if (*p == '\n')
			fputs("\\n", f);
		else
			fputc(*p, f);
	}
	fprintf(f, "\n# TYPE %s %s\n", name, type);
}

/* One label value: the table's escaped text, then the format's escapes on top. */
static void put_value(FILE *f, const char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)s[i];
		size_t u = c >= 0x80 ? cli_utf8_seq(s + i, len - i) : 0;
		if (u) {
			fwrite(s + i, 1, u, f);
			i += u;
			continue;
		}
		if (c == '\\')
			fputs("\\\\\\\\", f); /* shown \\ -> escaped \\\\ */
		else if (c == '"')
			fputs("\\\"", f);
		else if (c == '\n')
			fputs("\\\\n", f); /* shown \n (two characters) */
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\\\x%02x", c);
		else
			fputc(c, f);
		i++;
	}
}

static void put_series(FILE *f, const char *name, const prom_label *labels, size_t n)
{
	fputs(name, f);
	if (n) {
		fputc('{', f);
		for (size_t i = 0; i < n; i++) {
			fprintf(f, "%s%s=\"", i ? "," : "", labels[i].name);
			put_value(f, labels[i].value, labels[i].len);
			fputc('"', f);
		}
		fputc('}', f);
	}
}

void prom_sample(FILE *f, const char *name, const prom_label *labels, size_t n, uint64_t value)
{
	put_series(f, name, labels, n);
	fprintf(f, " %llu\n", (unsigned long long)value);
}

void prom_sample_double(FILE *f, const char *name, const prom_label *labels, size_t n, double value)
{
	put_series(f, name, labels, n);
	fprintf(f, " %.9g\n", value);
}

int prom_textfile_check(const char *path)
{
	return cli_output_check(path, true);
}

int prom_textfile_write(const char *path, void (*fn)(FILE *, void *), void *ctx)
{
	char *tmp;
	int fd = cli_tmp_beside(path, &tmp);
	if (fd < 0)
		return CLI_EXIT_ERROR;
	/* the stream gets its own descriptor: @fd, and the lock on it, stay until published */
	int sfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	FILE *f = sfd >= 0 ? fdopen(sfd, "w") : NULL;
	int err = 0;
	if (!f) {
		err = errno;
		if (sfd >= 0)
			close(sfd);
	} else {
		fn(f, ctx);
		/* the collector reads it as whoever runs node_exporter */
		if (fchmod(fd, 0644) < 0 && !err)
			err = errno;
		if (fflush(f) != 0 || ferror(f))
			err = errno ? errno : EIO;
		if (!err && fsync(fd) < 0)
			err = errno;
		if (fclose(f) != 0 && !err)
			err = errno;
	}
	int rc;
	if (err) {
		unlink(tmp);
		close(fd);
		fprintf(stderr, "memlens: %s: cannot write: %s; the previous file, if any, is unchanged\n", path,
			strerror(err));
		rc = CLI_EXIT_ERROR;
	} else {
		/* only ever over a regular file, even one that something else replaced meanwhile */
		rc = cli_publish(fd, tmp, path, true);
	}
	free(tmp);
	return rc;
}
