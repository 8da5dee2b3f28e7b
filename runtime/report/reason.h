/*
 * reason.h - the sentences of the planner's reason codes (plan.h's enum
 * trit_plan_reason): for each code its stable name, its topic (which part
 * of the plan report it explains), the names of its numbers and names, and
 * a template. The planner records data; this is the one place it becomes
 * prose, for the text and the JSON reports alike (docs/plan-reasons.md).
 */
#ifndef TRIT_REPORT_REASON_H
#define TRIT_REPORT_REASON_H

#include <stddef.h>
#include <stdint.h>

#include "plan/plan.h"

/* Which sentence of the plan report a reason belongs to. */
enum trit_reason_topic {
	TRIT_TOPIC_STRATEGY, /* "why": the strategy */
	TRIT_TOPIC_USABLE,   /* a device's usable_why */
	TRIT_TOPIC_FORMAT,   /* a device's ternary format_why */
	TRIT_TOPIC_SPEED,    /* the decode speed formula, or why it is unknown */
	TRIT_TOPIC_NOTE,     /* one note each */
	TRIT_TOPIC_THREADS,  /* the thread count when configured (not a note) */
	TRIT_TOPIC_UBATCH,   /* the ubatch (JSON only) */
	TRIT_TOPIC_COUNT
};

/* A number of a code: its name, the digits the sentence prints after the
 * point, and what it is divided by first (1e9: bytes as GB). */
struct trit_reason_num {
	const char *name;
	int prec;
	double scale;
};

/*
 * A code's sentence. The template is text with fields:
 *   {name}          the number or name called `name`, as declared
 *   {name?A|B}      A when the number is non-zero or the name non-empty,
 *                   else B (A and B may hold fields themselves)
 *   {name>K?A|B}    A when the number is greater than the integer K
 * When the topic's sentence is made of several records, a record that
 * follows another of the same topic is preceded by `join` (by `join_same`
 * when the one before has the same code).
 */
struct trit_reason_info {
	const char *name;                                   /* stable, e.g. "hybrid_split" */
	enum trit_reason_topic topic;
	const char *tmpl;
	struct trit_reason_num num[TRIT_PLAN_REASON_NUMS];  /* num[i] names rec.num[i] */
	const char *arg[TRIT_PLAN_REASON_ARGS];             /* arg[i] names rec.arg[i] */
	const char *join, *join_same;
};

/* The table entry of a code, or NULL for an unknown one. */
const struct trit_reason_info *trit_reason_info(uint32_t code);
const char *trit_reason_topic_name(enum trit_reason_topic t);

/* The sentence of one record into buf (always terminated when len > 0).
 * Returns its length (as snprintf: the length it needs) or -1 when the code
 * is unknown or its template names a field the code does not have. */
int trit_reason_text(const struct trit_plan_reason_rec *r, char *buf, size_t len);

/* The sentence of a topic: the records of that topic, about slot `slot`
 * (any slot when slot < -1), each with its join. Same return as above;
 * an empty string when no record matches. */
int trit_reason_join(const struct trit_plan_reason_rec *v, uint32_t n,
                     enum trit_reason_topic topic, int slot, char *buf, size_t len);

#endif
