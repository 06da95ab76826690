/*  table: columnized text output of the CLI (see table.h). */
#include "table.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TABLE_GLUE "  "

struct _table_t {
    int columns;
    char **cells;           //  rows * columns strings, owned
    size_t rows;
    size_t capacity;        //  in rows
};

table_t *
table_new (int columns)
{
    assert (columns > 0);
    table_t *self = calloc (1, sizeof (table_t));
    if (self)
        self->columns = columns;
    return self;
}

void
table_destroy (table_t **self_p)
{
    assert (self_p);
    table_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->rows * self->columns; i++)
        free (self->cells [i]);
    free (self->cells);
    free (self);
    *self_p = NULL;
}

int
table_add (table_t *self, const char *const *cells)
{
    assert (self && cells);
    if (self->rows == self->capacity) {
        size_t capacity = self->capacity ? self->capacity * 2 : 16;
        char **grown = realloc (self->cells,
                                capacity * self->columns * sizeof (char *));
        if (!grown)
            return -1;
        self->cells = grown;
        self->capacity = capacity;
    }
    char **row = self->cells + self->rows * self->columns;
    for (int i = 0; i < self->columns; i++) {
        row [i] = strdup (cells [i] ? cells [i] : "");
        if (!row [i]) {
            while (i-- > 0)
                free (row [i]);
            return -1;
        }
    }
    self->rows++;
    return 0;
}

int
table_addv (table_t *self, ...)
{
    assert (self);
    const char *cells [self->columns];
    va_list args;
    va_start (args, self);
    for (int i = 0; i < self->columns; i++)
        cells [i] = va_arg (args, const char *);
    va_end (args);
    return table_add (self, cells);
}

size_t
table_rows (table_t *self)
{
    assert (self);
    return self->rows;
}

//  Display width: UTF-8 continuation bytes do not count.
static size_t
s_width (const char *text)
{
    size_t width = 0;
    for (; *text; text++)
        if (((unsigned char) *text & 0xC0) != 0x80)
            width++;
    return width;
}

char *
table_render (table_t *self)
{
    assert (self);
    size_t widths [self->columns];
    memset (widths, 0, sizeof (widths));
    size_t total = 1;
    for (size_t r = 0; r < self->rows; r++)
        for (int c = 0; c < self->columns; c++) {
            const char *cell = self->cells [r * self->columns + c];
            size_t width = s_width (cell);
            if (width > widths [c])
                widths [c] = width;
            total += strlen (cell);
        }
    size_t line = 1;
    for (int c = 0; c < self->columns; c++)
        line += widths [c] + strlen (TABLE_GLUE);
    total += self->rows * line;

    char *text = malloc (total);
    if (!text)
        return NULL;
    char *cursor = text;
    for (size_t r = 0; r < self->rows; r++) {
        for (int c = 0; c < self->columns; c++) {
            const char *cell = self->cells [r * self->columns + c];
            size_t len = strlen (cell);
            memcpy (cursor, cell, len);
            cursor += len;
            if (c == self->columns - 1)
                break;
            size_t pad = widths [c] - s_width (cell);
            memset (cursor, ' ', pad);
            cursor += pad;
            memcpy (cursor, TABLE_GLUE, strlen (TABLE_GLUE));
            cursor += strlen (TABLE_GLUE);
        }
        *cursor++ = '\n';
    }
    *cursor = '\0';
    return text;
}

static int
s_string_compare (const void *a, const void *b)
{
    return strcmp (*(const char *const *) a, *(const char *const *) b);
}

char *
table_kv_join (const cJSON *object, const char *joiner)
{
    assert (joiner);
    int count = cJSON_IsObject (object) ? cJSON_GetArraySize (object) : 0;
    if (count == 0)
        return strdup ("");
    char **pairs = calloc (count, sizeof (char *));
    if (!pairs)
        return NULL;
    char *text = NULL;
    size_t total = 1;
    int size = 0;
    const cJSON *item;
    cJSON_ArrayForEach (item, object) {
        char *json = NULL;
        const char *value = item->valuestring;
        if (!cJSON_IsString (item)) {
            json = cJSON_PrintUnformatted (item);
            value = json;
        }
        size_t len = strlen (item->string) + (value ? strlen (value) : 0) + 2;
        pairs [size] = malloc (len);
        if (pairs [size])
            snprintf (pairs [size], len, "%s=%s", item->string,
                      value ? value : "");
        free (json);
        if (!pairs [size])
            goto cleanup;
        total += strlen (pairs [size]) + strlen (joiner);
        size++;
    }
    qsort (pairs, size, sizeof (char *), s_string_compare);
    text = malloc (total);
    if (!text)
        goto cleanup;
    char *cursor = text;
    for (int i = 0; i < size; i++) {
        if (i)
            cursor = stpcpy (cursor, joiner);
        cursor = stpcpy (cursor, pairs [i]);
    }
    *cursor = '\0';
cleanup:
    for (int i = 0; i < size; i++)
        free (pairs [i]);
    free (pairs);
    return text;
}
