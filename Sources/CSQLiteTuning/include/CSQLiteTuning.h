#ifndef NUDGE_CSQLITE_TUNING_H
#define NUDGE_CSQLITE_TUNING_H

/// Turns SQLite's memory statistics off for the whole process; returns SQLite's result code (SQLITE_MISUSE when
/// SQLite was already initialized: then nothing changes).
///
/// With statistics on (SQLite's default), every allocation SQLite makes takes one process-wide mutex, so two
/// connections reading at once on two threads take turns instead of running side by side. `sqlite3_config` is a C
/// variadic function, which Swift cannot call: hence this wrapper.
int nudge_sqlite_disable_memory_statistics(void);

#endif
