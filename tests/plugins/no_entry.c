/* no_entry.c - a shared object that exports no trit entry point. */
#include <trit/backend.h>

TRIT_EXPORT int not_a_trit_backend(void);
TRIT_EXPORT int not_a_trit_backend(void) { return 42; }
