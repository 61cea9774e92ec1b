/* Library version and error descriptions. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal/internal.h"
#include <memlens/common.h>

const char *ml_version(void)
{
	return MEMLENS_VERSION_STRING;
}

const char *ml_strerror(int err)
{
	switch (err < 0 ? -err : err) {
	case 0: return "success";
	case ESRCH: return "process is gone (exited, exec'd or reaped)";
	case EACCES: return "permission denied";
	case EPERM: return "operation not permitted";
	case EBADMSG: return "malformed or corrupt input";
	case EOPNOTSUPP: return "not supported by this kernel";
	case EIO: return "memory not readable";
	case EFAULT: return "address not mapped";
	case ENOSPC: return "no space left on device";
	default: return strerror(err < 0 ? -err : err);
	}
}

/* The calling thread's error detail: like errno, per thread, so a failure on one thread
 * never shows up as another's reason. */
static __thread char err_detail[512];

const char *ml_error_detail(void)
{
	return err_detail;
}

void ml__error_clear(void)
{
	err_detail[0] = '\0';
}

void ml__error_set(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err_detail, sizeof(err_detail), fmt, ap);
	va_end(ap);
}
