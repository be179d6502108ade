#ifndef COMMUNESYNC_CSQLITE_SHIM_H
#define COMMUNESYNC_CSQLITE_SHIM_H
/* Debian's libsqlite3 is built with the session extension; its declarations are visible only
   with these two defined. The session benchmark (syncbench sync) uses them as a baseline. */
#define SQLITE_ENABLE_SESSION 1
#define SQLITE_ENABLE_PREUPDATE_HOOK 1
#include <sqlite3.h>

/// SQLITE_TRANSIENT is a macro cast that Swift cannot import: export it as a constant.
/// It tells SQLite to copy bound text before the call returns.
static const sqlite3_destructor_type communesync_sqlite_transient = SQLITE_TRANSIENT;

#endif
