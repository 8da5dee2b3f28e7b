/*
 * driver.c - opening the CUDA driver library at run time and naming its
 * errors. Every entry point is resolved with dlsym by the name libcuda
 * exports; a missing library or symbol is a reason to skip the plugin, never
 * a crash. What the entry points are used for is probe.c's, buffers.c's and
 * matmul.c's business.
 */
#include <build-config.h>

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

/* dlopen() of a FIFO blocks until a writer comes and of a device or a
 * directory fails with a confusing message: a path (a name with a '/';
 * a bare soname is searched for by dlopen) must name a regular file. */
static int check_regular(const char *path, const char *origin, char *err, size_t errlen)
{
	struct stat sb;

	if (!strchr(path, '/') || stat(path, &sb) != 0 || S_ISREG(sb.st_mode))
		return 0; /* dlopen says what is wrong with a missing file */
	snprintf(err, errlen, "no CUDA driver: %s (%s): is %s, expected a regular file (the "
	         "driver's libcuda.so.1)", path, origin,
	         S_ISDIR(sb.st_mode) ? "a directory" : S_ISFIFO(sb.st_mode) ? "a FIFO" :
	         S_ISCHR(sb.st_mode) ? "a character device" : S_ISBLK(sb.st_mode) ?
	         "a block device" : S_ISSOCK(sb.st_mode) ? "a socket" : "not a regular file");
	return TRIT_ENODEV;
}

int cuda_driver_open(struct cuda_driver *drv, const char *path, const char *origin,
                     char *err, size_t errlen)
{
	void *h;

	memset(drv, 0, sizeof *drv);
	snprintf(drv->path, sizeof drv->path, "%s", path);
	snprintf(drv->origin, sizeof drv->origin, "%s", origin);
	if (check_regular(path, origin, err, errlen))
		return TRIT_ENODEV;
	dlerror();
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		const char *e = dlerror();
		snprintf(err, errlen, "no CUDA driver: cannot load %s (%s): %s; install the NVIDIA "
		         "driver, or name its libcuda.so.1 with TRIT_CUDA_DRIVER or [plugin.cuda] "
		         "driver", path, origin, e ? e : "unknown dlopen error");
		return TRIT_ENODEV;
	}
	/* ISO C has no object-to-function pointer conversion; POSIX guarantees
	 * dlsym's result can be used as one, so copy the representation. */
#define CUDA_DRIVER_RESOLVE(member, symbol, ret, args) \
	do { \
		void *sym = dlsym(h, symbol); \
		if (!sym) { \
			snprintf(err, errlen, "%s (%s) is not a usable CUDA driver: it does not export " \
			         "%s (a driver older than CUDA 4.0, or another library)", \
			         path, origin, symbol); \
			dlclose(h); \
			memset(drv, 0, sizeof *drv); \
			return TRIT_ENODEV; \
		} \
		memcpy(&drv->member, &sym, sizeof drv->member); \
	} while (0);
	CUDA_DRIVER_SYMBOLS(CUDA_DRIVER_RESOLVE)
#undef CUDA_DRIVER_RESOLVE
	/* The handle is kept until the process ends: libcuda starts threads of
	 * its own and is not safe to unload (the CUDA runtime never unloads it
	 * either). */
	drv->handle = h;
	return 0;
}

const char *cuda_error_text(const struct cuda_driver *drv, CUresult rc, char *buf, size_t len)
{
	const char *name = NULL, *text = NULL;

	if (drv->GetErrorName && drv->GetErrorName(rc, &name) != CUDA_SUCCESS)
		name = NULL;
	if (drv->GetErrorString && drv->GetErrorString(rc, &text) != CUDA_SUCCESS)
		text = NULL;
	if (name && text)
		snprintf(buf, len, "%s (%s)", name, text);
	else if (name || text)
		snprintf(buf, len, "%s (CUDA error %d)", name ? name : text, (int)rc);
	else
		snprintf(buf, len, "CUDA error %d (the driver has no name for it)", (int)rc);
	return buf;
}

int cuda_result(CUresult rc)
{
	switch (rc) {
	case CUDA_SUCCESS:
		return 0;
	case CUDA_ERROR_OUT_OF_MEMORY:
		return TRIT_ENOMEM;
	case CUDA_ERROR_NO_DEVICE:
	case CUDA_ERROR_INVALID_DEVICE:
		return TRIT_ENODEV;
	case CUDA_ERROR_NOT_SUPPORTED:
		return TRIT_EUNSUPPORTED;
	case CUDA_ERROR_INVALID_VALUE:
		return TRIT_EINVAL;
	default:
		return TRIT_EDEVICE;
	}
}

int cuda_fail(const struct cuda_driver *drv, CUresult rc, char *err, size_t errlen,
              const char *fmt, ...)
{
	char what[512], text[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	if (err && errlen)
		snprintf(err, errlen, "%s: %s", what, cuda_error_text(drv, rc, text, sizeof text));
	return cuda_result(rc);
}
