/*
 * core/proc.h - what the process itself costs, as the OS counts it: resident
 * memory now and at its peak (from /proc/self/status), resetting the peak
 * (/proc/self/clear_refs), and a monotonic clock. The loader and `trit run`
 * measure with these so that their figures are the OS's, not ours.
 */
#ifndef TRIT_CORE_PROC_H
#define TRIT_CORE_PROC_H

#include <stdint.h>

/* VmRSS / VmHWM in bytes; 0 when /proc/self/status cannot be read. */
uint64_t trit_rss_now(void);
uint64_t trit_rss_peak(void);

/* Reset VmHWM to the current RSS: 0, or -1 when the kernel refused (then
 * the peak is the process's since it began). */
int trit_rss_reset_peak(void);

/* Seconds on a monotonic clock. */
double trit_now(void);

#endif
