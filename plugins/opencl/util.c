/*
 * util.c - small helpers the opencl plugin's files share: OpenCL error names
 * and their TRIT_E* codes, a hash for the binary cache key, a clock, and
 * bounded reading of binary files (the string pool and trit_value
 * shorthands are plugins/common's). Nothing here calls OpenCL.
 */
#include <build-config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ocl.h"

const char *ocl_strerror(cl_int err, char *buf, size_t len)
{
	static const struct {
		cl_int code;
		const char *name;
	} names[] = {
		{ CL_SUCCESS, "CL_SUCCESS" },
		{ CL_DEVICE_NOT_FOUND, "CL_DEVICE_NOT_FOUND" },
		{ CL_DEVICE_NOT_AVAILABLE, "CL_DEVICE_NOT_AVAILABLE" },
		{ CL_COMPILER_NOT_AVAILABLE, "CL_COMPILER_NOT_AVAILABLE" },
		{ CL_MEM_OBJECT_ALLOCATION_FAILURE, "CL_MEM_OBJECT_ALLOCATION_FAILURE" },
		{ CL_OUT_OF_RESOURCES, "CL_OUT_OF_RESOURCES" },
		{ CL_OUT_OF_HOST_MEMORY, "CL_OUT_OF_HOST_MEMORY" },
		{ CL_BUILD_PROGRAM_FAILURE, "CL_BUILD_PROGRAM_FAILURE" },
		{ CL_INVALID_VALUE, "CL_INVALID_VALUE" },
		{ CL_INVALID_DEVICE_TYPE, "CL_INVALID_DEVICE_TYPE" },
		{ CL_INVALID_PLATFORM, "CL_INVALID_PLATFORM" },
		{ CL_INVALID_DEVICE, "CL_INVALID_DEVICE" },
		{ CL_INVALID_CONTEXT, "CL_INVALID_CONTEXT" },
		{ CL_INVALID_COMMAND_QUEUE, "CL_INVALID_COMMAND_QUEUE" },
		{ CL_INVALID_MEM_OBJECT, "CL_INVALID_MEM_OBJECT" },
		{ CL_INVALID_BINARY, "CL_INVALID_BINARY" },
		{ CL_INVALID_BUILD_OPTIONS, "CL_INVALID_BUILD_OPTIONS" },
		{ CL_INVALID_PROGRAM, "CL_INVALID_PROGRAM" },
		{ CL_INVALID_PROGRAM_EXECUTABLE, "CL_INVALID_PROGRAM_EXECUTABLE" },
		{ CL_INVALID_KERNEL_NAME, "CL_INVALID_KERNEL_NAME" },
		{ CL_INVALID_KERNEL, "CL_INVALID_KERNEL" },
		{ CL_INVALID_ARG_INDEX, "CL_INVALID_ARG_INDEX" },
		{ CL_INVALID_ARG_VALUE, "CL_INVALID_ARG_VALUE" },
		{ CL_INVALID_ARG_SIZE, "CL_INVALID_ARG_SIZE" },
		{ CL_INVALID_KERNEL_ARGS, "CL_INVALID_KERNEL_ARGS" },
		{ CL_INVALID_WORK_DIMENSION, "CL_INVALID_WORK_DIMENSION" },
		{ CL_INVALID_WORK_GROUP_SIZE, "CL_INVALID_WORK_GROUP_SIZE" },
		{ CL_INVALID_WORK_ITEM_SIZE, "CL_INVALID_WORK_ITEM_SIZE" },
		{ CL_INVALID_GLOBAL_OFFSET, "CL_INVALID_GLOBAL_OFFSET" },
		{ CL_INVALID_EVENT_WAIT_LIST, "CL_INVALID_EVENT_WAIT_LIST" },
		{ CL_INVALID_OPERATION, "CL_INVALID_OPERATION" },
		{ CL_INVALID_BUFFER_SIZE, "CL_INVALID_BUFFER_SIZE" },
		{ CL_INVALID_GLOBAL_WORK_SIZE, "CL_INVALID_GLOBAL_WORK_SIZE" },
		{ CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST,
		  "CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST" },
		{ -1001, "CL_PLATFORM_NOT_FOUND_KHR" },
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (names[i].code == err) {
			snprintf(buf, len, "%s (%d)", names[i].name, (int)err);
			return buf;
		}
	snprintf(buf, len, "OpenCL error %d", (int)err);
	return buf;
}

int ocl_result(cl_int err)
{
	switch (err) {
	case CL_SUCCESS:
		return TRIT_OK;
	case CL_MEM_OBJECT_ALLOCATION_FAILURE:
	case CL_OUT_OF_RESOURCES:
	case CL_OUT_OF_HOST_MEMORY:
	case CL_INVALID_BUFFER_SIZE:
		return TRIT_ENOMEM;
	case CL_DEVICE_NOT_FOUND:
	case CL_DEVICE_NOT_AVAILABLE:
	case -1001: /* CL_PLATFORM_NOT_FOUND_KHR */
		return TRIT_ENODEV;
	case CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST:
		return TRIT_EDEVICE;
	default:
		return TRIT_EDEVICE;
	}
}

uint64_t ocl_fnv1a(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

double ocl_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int ocl_read_file(const char *path, size_t limit, char **out, size_t *len, char *why,
                  size_t whylen)
{
	char *buf = NULL;
	size_t have = 0, cap = 0;
	struct stat sb;
	int fd;

	*out = NULL;
	if (len)
		*len = 0;
	/* O_NONBLOCK: opening a FIFO must not wait for a writer; only regular
	 * files (those of /proc and /sys are) are read */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return ocl_errf(why, whylen, TRIT_EIO, "cannot open %s: %s", path, strerror(errno));
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return ocl_errf(why, whylen, TRIT_EIO, "%s: is %s, expected a regular file", path,
		                S_ISDIR(sb.st_mode) ? "a directory" : S_ISFIFO(sb.st_mode) ? "a FIFO" :
		                S_ISCHR(sb.st_mode) ? "a character device" : "not a regular file");
	}
	for (;;) {
		ssize_t r;
		if (have + 2 > cap) {
			size_t want = cap ? cap * 2 : 16384;
			char *grown;
			if (want > limit + 2)
				want = limit + 2;
			if (want <= cap) {
				close(fd);
				free(buf);
				return ocl_errf(why, whylen, TRIT_ERANGE,
				                "%s is larger than %zu bytes", path, limit);
			}
			if (!(grown = realloc(buf, want))) {
				close(fd);
				free(buf);
				return ocl_errf(why, whylen, TRIT_ENOMEM,
				                "out of memory reading %s", path);
			}
			buf = grown;
			cap = want;
		}
		r = read(fd, buf + have, cap - have - 1);
		if (r < 0) {
			int e = errno;
			if (e == EINTR)
				continue;
			close(fd);
			free(buf);
			return ocl_errf(why, whylen, TRIT_EIO, "cannot read %s: %s", path,
			                strerror(e));
		}
		if (r == 0)
			break;
		have += (size_t)r;
		if (have > limit) {
			close(fd);
			free(buf);
			return ocl_errf(why, whylen, TRIT_ERANGE, "%s is larger than %zu bytes",
			                path, limit);
		}
	}
	close(fd);
	if (!buf && !(buf = malloc(1)))
		return ocl_errf(why, whylen, TRIT_ENOMEM, "out of memory reading %s", path);
	buf[have] = '\0';
	*out = buf;
	if (len)
		*len = have;
	return 0;
}
