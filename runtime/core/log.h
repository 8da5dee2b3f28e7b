/*
 * log.h - the runtime's one logging function.
 *
 * Messages go to a sink (stderr by default) when their level is at or below
 * the current threshold. The CLI sets the threshold from --verbose/--quiet and
 * the [runtime] log_level key or TRIT_LOG; embedders may install their own sink.
 */
#ifndef TRIT_LOG_H
#define TRIT_LOG_H

#include <stdarg.h>
#include <trit/trit.h> /* enum trit_log_level, trit_log_set_level, trit_log_set_sink */

void trit_log(int level, const char *fmt, ...) TRIT_PRINTF(2, 3);
void trit_logv(int level, const char *fmt, va_list ap) TRIT_PRINTF(2, 0);
int trit_log_get_level(void);
/* "error", "warn", "info", "debug", "trace" <-> level; -1 when unknown. */
int trit_log_level_from_name(const char *name);
const char *trit_log_level_name(int level);

#endif
