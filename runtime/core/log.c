/*
 * log.c - leveled logging with a replaceable sink.
 * Formatting and filtering only; where messages end up is the sink's business.
 */
#include <build-config.h>

#include <stdio.h>
#include <string.h>

#include "core/log.h"

static int log_level = TRIT_LOG_WARN;
static trit_log_sink log_sink;
static void *log_sink_ctx;

static const char *const level_names[] = { "error", "warn", "info", "debug", "trace" };

void trit_log_set_level(int level)
{
	if (level < TRIT_LOG_ERROR)
		level = TRIT_LOG_ERROR;
	if (level > TRIT_LOG_TRACE)
		level = TRIT_LOG_TRACE;
	log_level = level;
}

int trit_log_get_level(void)
{
	return log_level;
}

void trit_log_set_sink(trit_log_sink sink, void *ctx)
{
	log_sink = sink;
	log_sink_ctx = ctx;
}

int trit_log_level_from_name(const char *name)
{
	for (int i = 0; i <= TRIT_LOG_TRACE; i++)
		if (name && strcmp(name, level_names[i]) == 0)
			return i;
	return -1;
}

const char *trit_log_level_name(int level)
{
	return level >= 0 && level <= TRIT_LOG_TRACE ? level_names[level] : "?";
}

void trit_logv(int level, const char *fmt, va_list ap)
{
	char msg[1024];

	if (level > log_level)
		return;
	vsnprintf(msg, sizeof msg, fmt, ap);
	if (log_sink)
		log_sink(log_sink_ctx, level, msg);
	else
		fprintf(stderr, "trit: %s: %s\n", trit_log_level_name(level), msg);
}

void trit_log(int level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	trit_logv(level, fmt, ap);
	va_end(ap);
}
