/*  flags: the command-line flag parser of the meridian subcommands.
    Go's `flag` package rules, as Consul's commands use them: "-name",
    "--name", "-name=value", "-name value" (not for booleans), booleans
    also as "-name=true|false"; parsing stops at the first argument that is
    not a flag, at "-" and after "--". "-h", "-help" and "--help" ask for
    the usage text. Values are borrowed from argv. */
#ifndef MRD_CLI_FLAGS_H
#define MRD_CLI_FLAGS_H

#include <stdbool.h>
#include <stdio.h>

typedef struct _flags_t flags_t;

//  usage is the command's help text, printed before the flag list.
flags_t *flags_new (const char *usage);
void flags_destroy (flags_t **self_p);

//  Declares a flag. The target keeps its value unless the flag is given.
void flags_bool (flags_t *self, const char *name, bool *target,
                 const char *help);
void flags_string (flags_t *self, const char *name, const char **target,
                   const char *help);
void flags_int (flags_t *self, const char *name, int *target,
                const char *help);
//  A repeatable string flag: every occurrence is appended to a list that
//  flags owns; *items and *count are updated as the list grows.
void flags_list (flags_t *self, const char *name, const char ***items,
                 int *count, const char *help);

//  Declares the HTTP API flags shared by the client commands
//  (-http-addr, -token); targets are left untouched unless given.
void flags_http (flags_t *self, const char **http_addr, const char **token);

//  Parses argv (without the command words). Returns the index in argv of
//  the first positional argument (argc when there is none), -1 on an error
//  (message and usage printed to stderr) or -2 when help was asked for
//  (usage printed to stdout).
int flags_parse (flags_t *self, int argc, char **argv);

//  Prints the usage text and the flag list to out.
void flags_usage (flags_t *self, FILE *out);

#endif
