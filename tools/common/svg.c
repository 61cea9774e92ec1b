/* Static SVG pictures: built in memory, escaped for XML, published whole (cli_publish()). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cli.h"
#include "common/svg.h"

int svg_begin(svg_doc *s, double w, double h, const char *title)
{
	memset(s, 0, sizeof(*s));
	s->f = open_memstream(&s->buf, &s->len);
	if (!s->f)
		return -ENOMEM;
	fprintf(s->f,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%.0f\" height=\"%.0f\" "
		"viewBox=\"0 0 %.0f %.0f\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" "
		"font-size=\"12\">\n<title>",
		w, h, w, h);
	svg_ctext(s->f, title);
	fprintf(s->f, "</title>\n<rect class=\"background\" x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" "
		      "fill=\"#ffffff\"/>\n", w, h);
	return 0;
}

void svg_text(FILE *f, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		size_t u;
		if (c >= 0x80 && (u = cli_utf8_seq(s + i, len - i)) &&
		    /* U+FFFE and U+FFFF are not XML characters */
		    !(u == 3 && c == 0xef && (unsigned char)s[i + 1] == 0xbf && (unsigned char)s[i + 2] >= 0xbe)) {
			fwrite(s + i, 1, u, f);
			i += u - 1;
		} else if (c == '<')
			fputs("&lt;", f);
		else if (c == '>')
			fputs("&gt;", f);
		else if (c == '&')
			fputs("&amp;", f);
		else if (c == '"')
			fputs("&quot;", f);
		else if (c == '\\')
			fputs("\\\\", f);
		else if (c >= 0x20 && c < 0x7f)
			fputc(c, f);
		else
			fprintf(f, "\\x%02x", c);
	}
}

void svg_discard(svg_doc *s)
{
	if (s->f)
		fclose(s->f);
	free(s->buf);
	memset(s, 0, sizeof(*s));
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int svg_finish(svg_doc *s, const char *path, bool force)
{
	fputs("</svg>\n", s->f);
	if (fclose(s->f) != 0) {
		s->f = NULL;
		svg_discard(s);
		fprintf(stderr, "memlens: %s: cannot build the picture: out of memory\n", path);
		return CLI_EXIT_ERROR;
	}
	s->f = NULL;
	char *tmp;
	int fd = cli_tmp_beside(path, &tmp);
	if (fd < 0) {
		svg_discard(s);
		return CLI_EXIT_ERROR;
	}
	mode_t um = umask(0);
	umask(um);
	int err = write_all(fd, s->buf, s->len);
	if (!err && fchmod(fd, 0666 & ~um) < 0)
		err = -errno;
	if (!err && fsync(fd) < 0)
		err = -errno;
	svg_discard(s);
	int rc = 0;
	if (err) {
		unlink(tmp);
		close(fd);
		fprintf(stderr, "memlens: %s: cannot write: %s\n", path, strerror(-err));
		rc = CLI_EXIT_ERROR;
	} else {
		rc = cli_publish(fd, tmp, path, force);
	}
	free(tmp);
	return rc;
}

const char *svg_fmt_bytes(char buf[32], double v)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	int u = 0;
	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	if (u == 0 || v >= 100 || v == (double)(long long)v)
		snprintf(buf, 32, "%.0f %s", v, units[u]);
	else
		snprintf(buf, 32, "%.1f %s", v, units[u]);
	return buf;
}
