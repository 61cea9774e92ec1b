/* Blank and line scanning for /proc text, bounded by explicit end pointers (numbers: num.c). */
#include "internal/internal.h"

void ml__skip_blank(const char **p, const char *end)
{
	while (*p < end && (**p == ' ' || **p == '\t'))
		(*p)++;
}

const char *ml__line_end(const char *p, const char *end)
{
	while (p < end && *p != '\n')
		p++;
	return p;
}

void ml__trim(const char **p, const char **e)
{
	while (*p < *e && (**p == ' ' || **p == '\t'))
		(*p)++;
	while (*e > *p && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
		(*e)--;
}
