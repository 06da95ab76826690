/*  table: column output like Consul's (ryanuber/columnize): cells are
    left-aligned, columns are separated by two spaces, the last column is
    not padded, widths count UTF-8 characters. Also the sorted "k=v" lists
    that Consul prints inside cells. */
#ifndef MRD_CLI_TABLE_H
#define MRD_CLI_TABLE_H

#include <cjson/cJSON.h>
#include <stddef.h>

typedef struct _table_t table_t;

//  A table whose rows all have `columns` cells.
table_t *table_new (int columns);
void table_destroy (table_t **self_p);

//  Appends a row of `columns` cells (copied; NULL counts as "").
//  Returns 0/-1 (out of memory).
int table_add (table_t *self, const char *const *cells);
//  Same with the cells as arguments.
int table_addv (table_t *self, ...);

size_t table_rows (table_t *self);

//  Formats an object's members as "k=v" pairs sorted by key and joined by
//  joiner, as Consul prints metadata and tags in a cell (non-string values
//  print as JSON). Caller owns return value; NULL when out of memory. A
//  NULL or non-object renders "".
char *table_kv_join (const cJSON *object, const char *joiner);

//  Renders every row, each ending with "\n". Caller owns return value;
//  NULL when out of memory.
char *table_render (table_t *self);

#endif
