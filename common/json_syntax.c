/*  json_syntax: a JSON syntax checker whose error texts follow Go's
    encoding/json scanner (see json_syntax.h). */
#include "json_syntax.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    const unsigned char *p;
    const unsigned char *end;
    char *reason;
    size_t size;
    char stack [JSON_SYNTAX_DEPTH_MAX];     //  '{' or '['
    int depth;
} s_scan_t;

static bool
s_space (unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void
s_skip_space (s_scan_t *scan)
{
    while (scan->p < scan->end && s_space (*scan->p))
        scan->p++;
}

//  Go's quoteChar.
static void
s_quote (unsigned char c, char *buf, size_t size)
{
    if (c == '\'')
        snprintf (buf, size, "'\\''");
    else
    if (c == '"')
        snprintf (buf, size, "'\"'");
    else
    if (c == '\n')
        snprintf (buf, size, "'\\n'");
    else
    if (c == '\r')
        snprintf (buf, size, "'\\r'");
    else
    if (c == '\t')
        snprintf (buf, size, "'\\t'");
    else
    if (c < 0x20 || c == 0x7F)
        snprintf (buf, size, "'\\x%02x'", c);
    else
    if (c >= 0x80)
        snprintf (buf, size, "'\\ufffd'");
    else
        snprintf (buf, size, "'%c'", c);
}

//  Reports a bad character at the cursor, or "unexpected EOF" at the end.
static int
s_error (s_scan_t *scan, const char *context)
{
    if (scan->p >= scan->end) {
        snprintf (scan->reason, scan->size, "unexpected EOF");
        return -1;
    }
    char quoted [16];
    s_quote (*scan->p, quoted, sizeof quoted);
    snprintf (scan->reason, scan->size, "invalid character %s %s", quoted, context);
    return -1;
}

static int
s_string (s_scan_t *scan)
{
    scan->p++;                                  //  opening quote
    while (scan->p < scan->end) {
        unsigned char c = *scan->p;
        if (c == '"') {
            scan->p++;
            return 0;
        }
        if (c < 0x20)
            return s_error (scan, "in string literal");
        if (c == '\\') {
            scan->p++;
            if (scan->p >= scan->end)
                return s_error (scan, "");
            c = *scan->p;
            if (c == 'u') {
                for (int i = 0; i < 4; i++) {
                    scan->p++;
                    if (scan->p >= scan->end)
                        return s_error (scan, "");
                    if (!strchr ("0123456789abcdefABCDEF", *scan->p) || !*scan->p)
                        return s_error (scan, "in \\u hexadecimal character escape");
                }
            }
            else
            if (!strchr ("bfnrt\\/\"", c) || !c)
                return s_error (scan, "in string escape code");
        }
        scan->p++;
    }
    return s_error (scan, "");
}

static bool
s_digit (s_scan_t *scan)
{
    return scan->p < scan->end && *scan->p >= '0' && *scan->p <= '9';
}

static int
s_number (s_scan_t *scan)
{
    if (*scan->p == '-') {
        scan->p++;
        if (!s_digit (scan))
            return s_error (scan, "in numeric literal");
    }
    if (*scan->p == '0')
        scan->p++;
    else
        while (s_digit (scan))
            scan->p++;
    if (scan->p < scan->end && *scan->p == '.') {
        scan->p++;
        if (!s_digit (scan))
            return s_error (scan, "after decimal point in numeric literal");
        while (s_digit (scan))
            scan->p++;
    }
    if (scan->p < scan->end && (*scan->p == 'e' || *scan->p == 'E')) {
        scan->p++;
        if (scan->p < scan->end && (*scan->p == '+' || *scan->p == '-'))
            scan->p++;
        if (!s_digit (scan))
            return s_error (scan, "in exponent of numeric literal");
        while (s_digit (scan))
            scan->p++;
    }
    return 0;
}

static int
s_literal (s_scan_t *scan, const char *word)
{
    for (size_t i = 0; word [i]; i++, scan->p++) {
        if (scan->p >= scan->end)
            return s_error (scan, "");
        if (*scan->p != (unsigned char) word [i]) {
            char context [64];
            snprintf (context, sizeof context, "in literal %s (expecting '%c')",
                      word, word [i]);
            return s_error (scan, context);
        }
    }
    return 0;
}

//  Scans one value; containers push onto the stack and return at once.
static int
s_value (s_scan_t *scan)
{
    s_skip_space (scan);
    if (scan->p >= scan->end)
        return s_error (scan, "");
    unsigned char c = *scan->p;
    if (c == '{' || c == '[') {
        if (scan->depth == JSON_SYNTAX_DEPTH_MAX) {
            snprintf (scan->reason, scan->size, "exceeded max depth");
            return -1;
        }
        scan->stack [scan->depth++] = (char) c;
        scan->p++;
        return 0;
    }
    if (c == '"')
        return s_string (scan);
    if (c == '-' || (c >= '0' && c <= '9'))
        return s_number (scan);
    if (c == 't')
        return s_literal (scan, "true");
    if (c == 'f')
        return s_literal (scan, "false");
    if (c == 'n')
        return s_literal (scan, "null");
    return s_error (scan, "looking for beginning of value");
}

//  Expects an object key and its colon.
static int
s_key (s_scan_t *scan)
{
    s_skip_space (scan);
    if (scan->p >= scan->end || *scan->p != '"')
        return s_error (scan, "looking for beginning of object key string");
    if (s_string (scan))
        return -1;
    s_skip_space (scan);
    if (scan->p >= scan->end || *scan->p != ':')
        return s_error (scan, "after object key");
    scan->p++;
    return 0;
}

int
json_syntax_check (const char *text, size_t len, char *reason, size_t size)
{
    s_scan_t scan = {
        .p = (const unsigned char *) text,
        .end = (const unsigned char *) text + len,
        .reason = reason, .size = size, .depth = 0
    };
    s_skip_space (&scan);
    if (scan.p >= scan.end) {
        snprintf (reason, size, "EOF");
        return -1;
    }
    if (s_value (&scan))
        return -1;
    //  After a value: close containers, or go on to the next member.
    bool just_opened = scan.depth > 0;
    while (scan.depth > 0) {
        char container = scan.stack [scan.depth - 1];
        s_skip_space (&scan);
        if (just_opened && scan.p < scan.end
        &&  *scan.p == (container == '{' ? '}' : ']')) {
            scan.p++;
            scan.depth--;
            just_opened = false;
            continue;
        }
        if (just_opened) {
            //  first member of a fresh container
            int depth = scan.depth;
            if ((container == '{' && s_key (&scan)) || s_value (&scan))
                return -1;
            just_opened = scan.depth > depth;
            continue;
        }
        if (scan.p < scan.end && *scan.p == ',') {
            scan.p++;
            int depth = scan.depth;
            if ((container == '{' && s_key (&scan)) || s_value (&scan))
                return -1;
            just_opened = scan.depth > depth;
            continue;
        }
        if (scan.p < scan.end && *scan.p == (container == '{' ? '}' : ']')) {
            scan.p++;
            scan.depth--;
            continue;
        }
        return s_error (&scan, container == '{' ? "after object key:value pair"
                                                 : "after array element");
    }
    s_skip_space (&scan);
    if (scan.p < scan.end)
        return s_error (&scan, "after top-level value");
    return 0;
}
