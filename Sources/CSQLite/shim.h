#ifndef COMMUNESYNC_CSQLITE_SHIM_H
#define COMMUNESYNC_CSQLITE_SHIM_H
#include <sqlite3.h>

/// SQLITE_TRANSIENT is a macro cast that Swift cannot import: export it as a constant.
/// It tells SQLite to copy bound text before the call returns.
static const sqlite3_destructor_type communesync_sqlite_transient = SQLITE_TRANSIENT;

#endif
