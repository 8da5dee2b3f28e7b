/*
 * inifile.c - the line-counting INI reader shared by deploy.ini (config.c)
 * and --devices files (backend/described.c), and the problem list both
 * report through. It knows INI syntax, not what any section or key means.
 */
#include <build-config.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <ini.h>

#include "core/common.h"
#include "core/safeopen.h"
#include "core/strmap.h"
#include "config/inifile.h"

/* --------------------------------------------------------------- problems */

void trit_problems_add(struct trit_problems *ps, int line, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	size_t at;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (ps->n == ps->cap) {
		size_t cap = ps->cap ? ps->cap * 2 : 8;
		struct trit_problem *v = realloc(ps->v, cap * sizeof *v);
		if (!v) {
			ps->oom = 1;
			return;
		}
		ps->v = v;
		ps->cap = cap;
	}
	char *text = trit_strdup(buf);
	if (!text) {
		ps->oom = 1;
		return;
	}
	at = ps->n;
	while (at > 0 && ps->v[at - 1].line > line) {
		ps->v[at] = ps->v[at - 1];
		at--;
	}
	ps->v[at].line = line;
	ps->v[at].text = text;
	ps->n++;
}

static int problem_at(const struct trit_problems *ps, int line)
{
	for (size_t i = 0; i < ps->n; i++)
		if (ps->v[i].line == line)
			return 1;
	return 0;
}

void trit_problems_free(struct trit_problems *ps)
{
	for (size_t i = 0; i < ps->n; i++)
		free(ps->v[i].text);
	free(ps->v);
	memset(ps, 0, sizeof *ps);
}

/* Length of err when holding the first `shown` problems and, if some are
 * left out, the line saying how many. */
static size_t report_len(const struct trit_problems *ps, size_t shown, char *tail,
                         size_t tail_len)
{
	size_t len = 0;

	for (size_t i = 0; i < shown; i++)
		len += strlen(ps->v[i].text) + (i ? 1 : 0);
	tail[0] = '\0';
	if (shown < ps->n)
		snprintf(tail, tail_len, "%s(%zu more problem%s not shown)", shown ? "\n" : "",
		         ps->n - shown, ps->n - shown == 1 ? "" : "s");
	return len + strlen(tail);
}

void trit_problems_write(const struct trit_problems *ps, char *err, size_t errlen)
{
	char tail[64];
	size_t shown = ps->n, used = 0;

	if (!err || !errlen)
		return;
	err[0] = '\0';
	while (shown > 0 && report_len(ps, shown, tail, sizeof tail) >= errlen)
		shown--;
	if (shown == 0 && ps->n > 0) {
		snprintf(err, errlen, "%s", ps->v[0].text);
		if (strlen(ps->v[0].text) >= errlen && errlen > 4)
			memcpy(err + errlen - 4, "...", 4);
		return;
	}
	report_len(ps, shown, tail, sizeof tail);
	/* report_len said it all fits */
	for (size_t i = 0; i < shown; i++)
		used += (size_t)snprintf(err + used, errlen - used, "%s%s", i ? "\n" : "",
		                         ps->v[i].text);
	snprintf(err + used, errlen - used, "%s", tail);
}

const char *trit_ini_quote(const char *s, char buf[72])
{
	size_t n = strlen(s);
	if (n > 64)
		snprintf(buf, 72, "'%.61s...'", s);
	else
		snprintf(buf, 72, "'%s'", s);
	return buf;
}

/* ------------------------------------------------------------------ reader */

/*
 * inih parses key lines; this file reads the lines and handles the rest.
 * inih calls our reader once per line, then the handler for that line, so
 * the reader knows the line number of each handler call. The reader also:
 *   - strips leading blanks, so an indented key is a key and never a
 *     continuation of the previous value (inih's multi-line values);
 *   - handles [section] lines itself: inih truncates long section names and
 *     says nothing about a section with no keys, and callers check both;
 *   - reports lines longer than inih's buffer instead of letting it split
 *     them, and passes comments of any length;
 *   - notices key lines for which inih did not call the handler: those are
 *     syntax errors (inih reports only the first one).
 */
enum section_state {
	SEC_NONE,   /* no [section] line yet */
	SEC_OK,     /* the caller took the section */
	SEC_BAD     /* reported already; its keys are skipped */
};

struct trit_ini {
	const char *path;
	const struct trit_ini_handler *h;
	void *user;
	FILE *f;
	char *line;         /* TRIT_INI_MAX_LINE + 1 bytes */
	int lineno;
	int expect_handler; /* the line just given to inih is a key line */
	int handled;        /* ...and the handler was called for it */
	int read_errno;
	int stopped;        /* gave up after TRIT_INI_MAX_PROBLEMS */
	int halted;         /* a limit was reached (and reported): read no further */
	uint64_t bytes;     /* read so far */
	size_t n_sections, n_keys;
	char *section;
	enum section_state state;
	struct trit_strmap seen; /* section + key -> the line that set it */
	struct trit_problems probs;
};

#define SYNTAX_ERROR "syntax error: expected '[section]' or 'key = value'"

const char *trit_ini_path(const struct trit_ini *ini)
{
	return ini->path;
}

int trit_ini_line(const struct trit_ini *ini)
{
	return ini->lineno;
}

void trit_ini_problem(struct trit_ini *ini, int line, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	trit_problems_add(&ini->probs, line, "%s:%d: %s", ini->path, line, msg);
}

void trit_ini_oom(struct trit_ini *ini)
{
	ini->probs.oom = 1;
}

static void finish_line(struct trit_ini *r)
{
	if (r->expect_handler && !r->handled)
		trit_ini_problem(r, r->lineno, SYNTAX_ERROR);
	r->expect_handler = 0;
	r->handled = 0;
}

static void section_line(struct trit_ini *r, char *text)
{
	char *close = strchr(text, ']'), *name = text + 1, *after;

	r->state = SEC_BAD;
	if (++r->n_sections > TRIT_INI_MAX_SECTIONS) {
		trit_ini_problem(r, r->lineno, "more than %d sections; trit reads at most %d",
		                 TRIT_INI_MAX_SECTIONS, TRIT_INI_MAX_SECTIONS);
		r->halted = 1;
		return;
	}
	if (!close) {
		trit_ini_problem(r, r->lineno, SYNTAX_ERROR);
		return;
	}
	for (after = close + 1; isspace((unsigned char)*after); after++)
		;
	if (*after && *after != ';' && *after != '#') {
		trit_ini_problem(r, r->lineno, SYNTAX_ERROR);
		return;
	}
	*close = '\0';
	while (isspace((unsigned char)*name))
		name++;
	for (char *end = close; end > name && isspace((unsigned char)end[-1]); )
		*--end = '\0';
	if (r->h->section(r, r->user, name) != 0)
		return;
	free(r->section);
	r->section = trit_strdup(name);
	if (!r->section) {
		r->probs.oom = 1;
		return;
	}
	r->state = SEC_OK;
}

/*
 * The next line into r->line, without its '\n': its length, or -1 at the end
 * of the file (or a read error, kept in read_errno), or -2 when the line or
 * the file is longer than trit reads (reported: reading stops there, so
 * /dev/zero or a binary file given as an INI file costs a bounded read).
 */
static long next_line(struct trit_ini *r)
{
	size_t len = 0;
	int c;

	if (!r->line && !(r->line = malloc(TRIT_INI_MAX_LINE + 1))) {
		r->probs.oom = 1;
		return -1;
	}
	errno = 0;
	while ((c = getc(r->f)) != EOF) {
		if (r->bytes++ >= TRIT_INI_MAX_BYTES || (c != '\n' && len == TRIT_INI_MAX_LINE)) {
			if (len == TRIT_INI_MAX_LINE)
				trit_ini_problem(r, r->lineno + 1, "line longer than %d bytes",
				                 TRIT_INI_MAX_LINE);
			else
				trit_ini_problem(r, r->lineno + 1, "file larger than %d MiB",
				                 TRIT_INI_MAX_BYTES >> 20);
			r->halted = 1;
			return -2;
		}
		if (c == '\n')
			break;
		r->line[len++] = (char)c;
	}
	if (c == EOF && ferror(r->f))
		r->read_errno = errno ? errno : EIO;
	if (c == EOF && (len == 0 || r->read_errno))
		return -1;
	r->line[len] = '\0';
	return (long)len;
}

static char *read_line(char *str, int num, void *stream)
{
	struct trit_ini *r = stream;
	long n;
	size_t len;
	char *text;

	finish_line(r);
	if (r->probs.oom || r->halted)
		return NULL;
	if ((n = next_line(r)) < 0)
		return NULL;
	if (r->probs.n >= TRIT_INI_MAX_PROBLEMS) {
		r->stopped = 1; /* there is more, but this is not an INI file */
		return NULL;
	}
	r->lineno++;
	text = r->line;
	len = (size_t)n;
	if (len && text[len - 1] == '\r')
		text[--len] = '\0';
	snprintf(str, (size_t)num, "\n"); /* what inih sees unless it is a key line */
	if (memchr(text, '\0', len)) {
		trit_ini_problem(r, r->lineno,
		                 "the line contains a NUL byte; is this a text file?");
		return str;
	}
	if (r->lineno == 1 && strncmp(text, "\xEF\xBB\xBF", 3) == 0)
		text += 3; /* UTF-8 byte order mark */
	while (isspace((unsigned char)*text))
		text++;
	if (!*text || *text == ';' || *text == '#')
		return str;
	if (len > (size_t)num - 2) {
		trit_ini_problem(r, r->lineno, "line too long (max %d characters)", num - 2);
		return str;
	}
	if (*text == '[') {
		section_line(r, text);
		return str;
	}
	snprintf(str, (size_t)num, "%s\n", text);
	r->expect_handler = 1;
	return str;
}

static int seen_line(const struct trit_ini *r, const char *key)
{
	size_t line;

	return trit_strmap_get2(&r->seen, r->section, key, &line) ? (int)line : 0;
}

/* inih's handler. Always returns 1: problems are recorded here, not by inih. */
static int on_key(void *user, const char *inih_section, const char *name, const char *value)
{
	struct trit_ini *r = user;
	char q[72];
	int line = r->lineno, first;

	(void)inih_section; /* the reader tracks sections itself */
	r->handled = 1;
	if (!*name) {
		trit_ini_problem(r, line, SYNTAX_ERROR);
		return 1;
	}
	if (r->state == SEC_NONE) {
		trit_ini_problem(r, line, "key %s comes before any section; put it under %s",
		                 trit_ini_quote(name, q), r->h->sections);
		return 1;
	}
	if (r->state == SEC_BAD)
		return 1;
	if (++r->n_keys > TRIT_INI_MAX_KEYS) {
		trit_ini_problem(r, line, "more than %d keys; trit reads at most %d",
		                 TRIT_INI_MAX_KEYS, TRIT_INI_MAX_KEYS);
		r->halted = 1;
		return 1;
	}
	if ((first = seen_line(r, name)) != 0) {
		trit_ini_problem(r, line, "[%s] %s is already set at line %d", r->section, name,
		                 first);
		return 1;
	}
	if (trit_strmap_put2(&r->seen, r->section, name, (size_t)line) != 0) {
		r->probs.oom = 1;
		return 1;
	}
	r->h->key(r, r->user, r->section, name, value);
	return 1;
}

static void reader_free(struct trit_ini *r)
{
	trit_strmap_free(&r->seen);
	free(r->section);
	free(r->line);
	trit_problems_free(&r->probs);
}

int trit_ini_parse(const char *path, const struct trit_ini_handler *h, void *user,
                   char *err, size_t errlen)
{
	struct trit_ini r = { .path = path, .h = h, .user = user, .state = SEC_NONE };
	char why[512];
	int rc, ret, errnum;

	if (!path || !h || !h->section || !h->key)
		return trit_errf(err, errlen, TRIT_EINVAL,
		                 "trit_ini_parse: no path or no handler given");
	/* a FIFO or a device is refused here: reading one could block or not end */
	r.f = trit_fopen_regular(path, &errnum, why, sizeof why);
	if (!r.f && errnum)
		return trit_errf(err, errlen, TRIT_EIO, "cannot open %s '%s': %s", h->what,
		                 path, strerror(errnum));
	if (!r.f)
		return trit_errf(err, errlen, TRIT_EIO, "%s %s", h->what, why);
	ret = ini_parse_stream(read_line, &r, on_key, &r);
	finish_line(&r);
	fclose(r.f);
	if (ret > 0 && !problem_at(&r.probs, ret))
		trit_ini_problem(&r, ret, SYNTAX_ERROR);
	if (!r.probs.oom && ret != -2 && !r.halted && h->end) /* not after a partial read */
		h->end(&r, user);
	if (r.stopped)
		trit_problems_add(&r.probs, INT32_MAX, "%s: stopped reading after %d problems; is "
		                  "this an INI file?", path, TRIT_INI_MAX_PROBLEMS);
	if (r.read_errno)
		trit_problems_add(&r.probs, INT32_MAX, "cannot read %s '%s': %s", h->what, path,
		                  strerror(r.read_errno));

	if (r.probs.oom || ret == -2) {
		rc = trit_errf(err, errlen, TRIT_ENOMEM, "out of memory while reading '%s'", path);
	} else if (r.probs.n) {
		trit_problems_write(&r.probs, err, errlen);
		rc = r.read_errno && r.probs.n == 1 ? TRIT_EIO : TRIT_ECONFIG;
	} else {
		rc = 0;
	}
	reader_free(&r);
	return rc;
}
