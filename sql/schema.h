/*
 * schema.h — the SQL schema and migrations, embedded in the binary at build
 * time from sql/schema.sql and sql/migrations/NNNN_*.sql (sql/embed.cmake).
 *
 * The store applies the migrations itself (hp_store_open); these accessors
 * exist so that tools can print the schema (`hpsearch sql --schema`) and tests
 * can build databases at older versions.
 *
 *     for (size_t i = 0; i < hp_store_migration_count(); i++)
 *         printf("%d %s\n", hp_store_migration_get(i)->version,
 *                hp_store_migration_get(i)->name);
 *
 * All strings are static, NUL-terminated and never freed.
 */
#ifndef HP_SCHEMA_H
#define HP_SCHEMA_H

#include <stddef.h>

typedef struct hp_store_migration {
    int version;      /* the PRAGMA user_version it produces: 1, 2, ... */
    const char *name; /* file name, e.g. "0001_core.sql" */
    const char *sql;  /* its statements */
} hp_store_migration_t;

/* hp_store_schema_sql returns the text of sql/schema.sql: the whole current
 * schema, ending with `PRAGMA user_version = N`. Any thread. */
const char *hp_store_schema_sql(void);

/* hp_store_migration_count returns how many migrations are embedded; it is
 * also the schema version this program writes (HP_STORE_SCHEMA_VERSION). */
size_t hp_store_migration_count(void);

/* hp_store_migration_get returns migration i (0-based; its version is i+1),
 * or NULL when i is out of range. Any thread. */
const hp_store_migration_t *hp_store_migration_get(size_t i);

#endif
