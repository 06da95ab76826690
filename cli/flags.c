/*  flags: Go-style flag parsing for the meridian subcommands (see flags.h).
    One flags_t per command invocation; it owns the lists of repeatable
    flags and nothing else (string values point into argv). */
#include "flags.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define FLAGS_MAX 32

typedef enum { FLAG_BOOL, FLAG_STRING, FLAG_INT, FLAG_LIST } flag_type_t;

typedef struct {
    const char *name;
    const char *help;
    flag_type_t type;
    void *target;
    int *count;             //  FLAG_LIST only
    const char **items;     //  FLAG_LIST only, owned
    int capacity;
} flag_t;

struct _flags_t {
    const char *usage;
    flag_t flag [FLAGS_MAX];
    int size;
};

flags_t *
flags_new (const char *usage)
{
    flags_t *self = calloc (1, sizeof (flags_t));
    if (self)
        self->usage = usage;
    return self;
}

void
flags_destroy (flags_t **self_p)
{
    assert (self_p);
    flags_t *self = *self_p;
    if (!self)
        return;
    for (int i = 0; i < self->size; i++)
        free (self->flag [i].items);
    free (self);
    *self_p = NULL;
}

static flag_t *
s_flag_add (flags_t *self, const char *name, flag_type_t type, void *target,
            const char *help)
{
    assert (self && name && target);
    assert (self->size < FLAGS_MAX);
    flag_t *flag = &self->flag [self->size++];
    memset (flag, 0, sizeof (*flag));
    flag->name = name;
    flag->type = type;
    flag->target = target;
    flag->help = help ? help : "";
    return flag;
}

void
flags_bool (flags_t *self, const char *name, bool *target, const char *help)
{
    s_flag_add (self, name, FLAG_BOOL, target, help);
}

void
flags_string (flags_t *self, const char *name, const char **target,
              const char *help)
{
    s_flag_add (self, name, FLAG_STRING, target, help);
}

void
flags_int (flags_t *self, const char *name, int *target, const char *help)
{
    s_flag_add (self, name, FLAG_INT, target, help);
}

void
flags_list (flags_t *self, const char *name, const char ***items, int *count,
            const char *help)
{
    flag_t *flag = s_flag_add (self, name, FLAG_LIST, items, help);
    flag->count = count;
    *items = NULL;
    *count = 0;
}

void
flags_http (flags_t *self, const char **http_addr, const char **token)
{
    flags_string (self, "http-addr", http_addr,
                  "The address of the agent's HTTP API, host[:port] with an "
                  "optional http:// prefix. Defaults to $MERIDIAN_HTTP_ADDR, "
                  "then $CONSUL_HTTP_ADDR, then 127.0.0.1:8500.");
    flags_string (self, "token", token,
                  "ACL token sent as X-Consul-Token. Defaults to "
                  "$MERIDIAN_HTTP_TOKEN, then $CONSUL_HTTP_TOKEN.");
}

static flag_t *
s_flag_find (flags_t *self, const char *name, size_t name_len)
{
    for (int i = 0; i < self->size; i++)
        if (strlen (self->flag [i].name) == name_len
        &&  memcmp (self->flag [i].name, name, name_len) == 0)
            return &self->flag [i];
    return NULL;
}

static int
s_bool_parse (const char *text, bool *value)
{
    static const char *yes [] = { "1", "t", "T", "true", "TRUE", "True" };
    static const char *no [] = { "0", "f", "F", "false", "FALSE", "False" };
    for (size_t i = 0; i < sizeof (yes) / sizeof (yes [0]); i++) {
        if (strcmp (text, yes [i]) == 0) {
            *value = true;
            return 0;
        }
        if (strcmp (text, no [i]) == 0) {
            *value = false;
            return 0;
        }
    }
    return -1;
}

static int
s_int_parse (const char *text, int *value)
{
    if (*text == '\0')
        return -1;
    char *end = NULL;
    errno = 0;
    long number = strtol (text, &end, 10);
    if (errno || *end != '\0' || number < INT_MIN || number > INT_MAX)
        return -1;
    *value = (int) number;
    return 0;
}

//  Stores value into flag. Returns 0, or -1 with a message printed.
static int
s_flag_set (flag_t *flag, const char *value)
{
    switch (flag->type) {
        case FLAG_BOOL:
            if (s_bool_parse (value, (bool *) flag->target)) {
                fprintf (stderr, "invalid boolean value \"%s\" for -%s: "
                         "parse error\n", value, flag->name);
                return -1;
            }
            return 0;
        case FLAG_STRING:
            *(const char **) flag->target = value;
            return 0;
        case FLAG_INT:
            if (s_int_parse (value, (int *) flag->target)) {
                fprintf (stderr, "invalid value \"%s\" for flag -%s: "
                         "parse error\n", value, flag->name);
                return -1;
            }
            return 0;
        case FLAG_LIST:
            if (*flag->count == flag->capacity) {
                int capacity = flag->capacity ? flag->capacity * 2 : 4;
                const char **items = realloc (flag->items,
                                              capacity * sizeof (char *));
                if (!items) {
                    fprintf (stderr, "out of memory\n");
                    return -1;
                }
                flag->items = items;
                flag->capacity = capacity;
            }
            flag->items [(*flag->count)++] = value;
            *(const char ***) flag->target = flag->items;
            return 0;
    }
    return -1;
}

int
flags_parse (flags_t *self, int argc, char **argv)
{
    assert (self);
    int index = 0;
    while (index < argc) {
        const char *arg = argv [index];
        if (arg [0] != '-' || arg [1] == '\0')
            break;                  //  first positional argument, or "-"
        const char *name = arg + 1;
        if (*name == '-') {
            name++;
            if (*name == '\0')
                return index + 1;   //  "--" ends the flags
        }
        if (*name == '-' || *name == '=') {
            fprintf (stderr, "bad flag syntax: %s\n", arg);
            flags_usage (self, stderr);
            return -1;
        }
        const char *equals = strchr (name, '=');
        size_t name_len = equals ? (size_t) (equals - name) : strlen (name);
        flag_t *flag = s_flag_find (self, name, name_len);
        if (!flag) {
            if ((name_len == 1 && *name == 'h')
            ||  (name_len == 4 && memcmp (name, "help", 4) == 0)) {
                flags_usage (self, stdout);
                return -2;
            }
            fprintf (stderr, "flag provided but not defined: -%.*s\n",
                     (int) name_len, name);
            flags_usage (self, stderr);
            return -1;
        }
        index++;
        const char *value;
        if (equals)
            value = equals + 1;
        else
        if (flag->type == FLAG_BOOL)
            value = "true";
        else {
            if (index == argc) {
                fprintf (stderr, "flag needs an argument: -%s\n", flag->name);
                flags_usage (self, stderr);
                return -1;
            }
            value = argv [index++];
        }
        if (s_flag_set (flag, value)) {
            flags_usage (self, stderr);
            return -1;
        }
    }
    return index;
}

static int
s_flag_compare (const void *a, const void *b)
{
    return strcmp ((*(const flag_t **) a)->name, (*(const flag_t **) b)->name);
}

void
flags_usage (flags_t *self, FILE *out)
{
    assert (self);
    if (self->usage)
        fprintf (out, "%s\n", self->usage);
    if (self->size == 0)
        return;
    const flag_t *sorted [FLAGS_MAX];
    for (int i = 0; i < self->size; i++)
        sorted [i] = &self->flag [i];
    qsort (sorted, self->size, sizeof (sorted [0]), s_flag_compare);
    fprintf (out, "\nOptions:\n");
    for (int i = 0; i < self->size; i++) {
        const flag_t *flag = sorted [i];
        const char *kind = flag->type == FLAG_BOOL ? ""
                         : flag->type == FLAG_INT ? "=<int>" : "=<string>";
        fprintf (out, "\n  -%s%s\n", flag->name, kind);
        //  Wrap the help text at about 72 columns, indented by 5.
        const char *text = flag->help;
        while (*text) {
            size_t len = strlen (text);
            size_t cut = len;
            if (len > 67) {
                cut = 67;
                while (cut > 0 && text [cut] != ' ')
                    cut--;
                if (cut == 0)
                    cut = len;
            }
            fprintf (out, "     %.*s\n", (int) cut, text);
            text += cut;
            while (*text == ' ')
                text++;
        }
    }
}
