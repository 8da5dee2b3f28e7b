/*
 * inifile.h - read an INI file through inih knowing the line of every key, and
 * collect every problem found as one sentence per line of the error report.
 * What sections and keys mean is left to the caller: config.c (deploy.ini) and
 * backend/described.c (--devices) both read their files with it. (Not named
 * ini.h: runtime/ is on the include path and would hide inih's <ini.h>.)
 */
#ifndef TRIT_INIFILE_H
#define TRIT_INIFILE_H

#include <stddef.h>

#include <trit/backend.h>

/* A file reporting more problems than this is probably not an INI file. */
#define TRIT_INI_MAX_PROBLEMS 50
/* Limits on what one file may hold (docs/config.md lists them): reaching one
 * is a problem at that line and reading stops, so a wrong file (a binary,
 * /dev/zero behind a symlink, a generated monster) costs bounded time and
 * memory. Real files are far below each. */
#define TRIT_INI_MAX_LINE     4096      /* bytes in one line, comments included */
#define TRIT_INI_MAX_BYTES    (16 << 20) /* bytes in the file */
#define TRIT_INI_MAX_SECTIONS 10000     /* [section] lines */
#define TRIT_INI_MAX_KEYS     100000    /* key lines */

/* Problems found so far, kept in line order; each is one line of err.
 * Zero-initialise before use. oom is set when a problem could not be kept. */
struct trit_problems {
	struct trit_problem {
		int line;
		char *text;
	} *v;
	size_t n, cap;
	int oom;
};

/* Add a problem sorted by line (after those of the same line). */
void trit_problems_add(struct trit_problems *ps, int line, const char *fmt, ...) TRIT_PRINTF(3, 4);
/* Write the problems into err, one per line, whole lines only. If they do
 * not all fit, as many as fit are followed by "(N more problems not shown)";
 * if not even one fits, the first is cut and ends in "...". */
void trit_problems_write(const struct trit_problems *ps, char *err, size_t errlen);
void trit_problems_free(struct trit_problems *ps);

/* s in quotes for a message, shortened when long: 'abc', 'aaaa...'. */
const char *trit_ini_quote(const char *s, char buf[72]);

/* A file being read; handed to the callbacks below. */
struct trit_ini;

struct trit_ini_handler {
	/* What the file is, for "cannot open <what> 'x'": "config file". */
	const char *what;
	/* Where keys belong, for "key 'x' comes before any section; put it
	 * under <sections>". */
	const char *sections;
	/* A [name] line (name trimmed). Return 0 to take the keys under it; else
	 * report why with trit_ini_problem and return nonzero: its keys are
	 * then skipped without further messages. */
	int (*section)(struct trit_ini *ini, void *user, const char *name);
	/* A key line under an accepted section. Keys are checked to be new in
	 * their section before this is called; value is trimmed, with inline
	 * " ;" comments removed. */
	void (*key)(struct trit_ini *ini, void *user, const char *section,
	            const char *key, const char *value);
	/* Called once after the last line, unless memory ran out or a limit
	 * stopped the read; may be NULL. */
	void (*end)(struct trit_ini *ini, void *user);
};

/* The path being read, and the line number of the line being handled
 * (in end(): the number of lines in the file). */
const char *trit_ini_path(const struct trit_ini *ini);
int trit_ini_line(const struct trit_ini *ini);
/* Report a problem at `line`; the message is prefixed with "PATH:LINE: ". */
void trit_ini_problem(struct trit_ini *ini, int line, const char *fmt, ...) TRIT_PRINTF(3, 4);
/* Say that memory ran out: the read fails with TRIT_ENOMEM. */
void trit_ini_oom(struct trit_ini *ini);

/*
 * Read `path`, calling h's functions with `user`. The reader handles what is
 * not the caller's business: line numbers, blank lines and comments, a UTF-8
 * byte order mark, CR-LF endings, leading blanks (an indented line is a key
 * of its own, never a continuation), [section] syntax, lines longer than
 * inih's buffer ("line too long (max N characters)"), NUL bytes, keys set
 * twice in one section ("already set at line N"), keys before any section,
 * syntax errors (every one, not only the first), giving up after
 * TRIT_INI_MAX_PROBLEMS problems, and the limits above. A path that is not a
 * regular file (a FIFO, a device, a directory) is refused before any read.
 *
 * Returns 0 when nothing was reported; TRIT_ECONFIG with every problem in
 * err, one per line in line order; TRIT_EIO when the file cannot be opened
 * or read; TRIT_ENOMEM.
 */
int trit_ini_parse(const char *path, const struct trit_ini_handler *h, void *user,
                   char *err, size_t errlen);

#endif
