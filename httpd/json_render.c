/*  json_render: Go encoding/json compatible rendering of cJSON values, the
    one place that turns JSON into HTTP bodies (compact or ?pretty). */
#include "json_render.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *data;
    size_t len;
    size_t cap;
    bool failed;
} s_buf_t;

static void
s_reserve (s_buf_t *buf, size_t more)
{
    if (buf->failed || buf->len + more + 1 <= buf->cap)
        return;
    size_t cap = buf->cap ? buf->cap : 256;
    while (cap < buf->len + more + 1)
        cap *= 2;
    char *data = realloc (buf->data, cap);
    if (!data) {
        buf->failed = true;
        return;
    }
    buf->data = data;
    buf->cap = cap;
}

static void
s_put (s_buf_t *buf, const char *text, size_t len)
{
    s_reserve (buf, len);
    if (buf->failed)
        return;
    memcpy (buf->data + buf->len, text, len);
    buf->len += len;
}

static void
s_putc (s_buf_t *buf, char c)
{
    s_reserve (buf, 1);
    if (buf->failed)
        return;
    buf->data [buf->len++] = c;
}

static void
s_puts (s_buf_t *buf, const char *text)
{
    s_put (buf, text, strlen (text));
}

//  Length of the valid UTF-8 sequence at p (up to end), 0 when invalid.
//  Rejects overlong forms, surrogates and code points above U+10FFFF.
static size_t
s_utf8_len (const unsigned char *p, const unsigned char *end, uint32_t *cp)
{
    unsigned char c = p [0];
    size_t need;
    uint32_t min;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 2; *cp = c & 0x1F; min = 0x80;
    }
    else
    if (c >= 0xE0 && c <= 0xEF) {
        need = 3; *cp = c & 0x0F; min = 0x800;
    }
    else
    if (c >= 0xF0 && c <= 0xF4) {
        need = 4; *cp = c & 0x07; min = 0x10000;
    }
    else
        return 0;
    if ((size_t) (end - p) < need)
        return 0;
    for (size_t i = 1; i < need; i++) {
        if ((p [i] & 0xC0) != 0x80)
            return 0;
        *cp = (*cp << 6) | (p [i] & 0x3F);
    }
    if (*cp < min || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF))
        return 0;
    return need;
}

static void
s_put_string (s_buf_t *buf, const char *text)
{
    static const char hex [] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *) (text ? text : "");
    const unsigned char *end = p + strlen ((const char *) p);
    s_putc (buf, '"');
    while (p < end) {
        unsigned char c = *p;
        if (c < 0x80) {
            switch (c) {
                case '"':  s_put (buf, "\\\"", 2); break;
                case '\\': s_put (buf, "\\\\", 2); break;
                case '\n': s_put (buf, "\\n", 2); break;
                case '\r': s_put (buf, "\\r", 2); break;
                case '\t': s_put (buf, "\\t", 2); break;
                case '<': case '>': case '&':
                    s_put (buf, "\\u00", 4);
                    s_putc (buf, hex [c >> 4]);
                    s_putc (buf, hex [c & 0xF]);
                    break;
                default:
                    if (c < 0x20) {
                        s_put (buf, "\\u00", 4);
                        s_putc (buf, hex [c >> 4]);
                        s_putc (buf, hex [c & 0xF]);
                    }
                    else
                        s_putc (buf, (char) c);
            }
            p++;
            continue;
        }
        uint32_t cp = 0;
        size_t len = s_utf8_len (p, end, &cp);
        if (len == 0) {
            s_puts (buf, "\\ufffd");
            p++;
        }
        else
        if (cp == 0x2028 || cp == 0x2029) {
            s_puts (buf, cp == 0x2028 ? "\\u2028" : "\\u2029");
            p += len;
        }
        else {
            s_put (buf, (const char *) p, len);
            p += len;
        }
    }
    s_putc (buf, '"');
}

//  Go's strconv.FormatFloat(f, 'f' or 'e', -1, 64) as encoding/json uses it.
static void
s_put_number (s_buf_t *buf, double value)
{
    char text [64];
    if (!isfinite (value)) {
        s_puts (buf, "null");
        return;
    }
    if (value == 0) {
        s_putc (buf, '0');
        return;
    }
    if (value == trunc (value) && fabs (value) < 9007199254740992.0) {
        snprintf (text, sizeof text, "%lld", (long long) value);
        s_puts (buf, text);
        return;
    }
    //  Shortest digits that read back to the same double.
    char sci [40];
    int precision;
    for (precision = 1; precision <= 17; precision++) {
        snprintf (sci, sizeof sci, "%.*e", precision - 1, value);
        if (strtod (sci, NULL) == value)
            break;
    }
    //  sci is [-]d[.ddd]e[+-]XX: split into digits and exponent
    char digits [24];
    size_t ndigits = 0;
    const char *s = sci;
    bool negative = (*s == '-');
    if (negative)
        s++;
    while (*s && *s != 'e') {
        if (*s != '.' && ndigits < sizeof digits - 1)
            digits [ndigits++] = *s;
        s++;
    }
    digits [ndigits] = 0;
    int exponent = (*s == 'e') ? atoi (s + 1) : 0;
    double magnitude = fabs (value);
    size_t pos = 0;
    if (negative)
        text [pos++] = '-';
    if (magnitude >= 1e-6 && magnitude < 1e21) {
        if (exponent >= 0) {
            for (int i = 0; i <= exponent || i < (int) ndigits; i++) {
                if (i == exponent + 1)
                    text [pos++] = '.';
                text [pos++] = i < (int) ndigits ? digits [i] : '0';
            }
        }
        else {
            text [pos++] = '0';
            text [pos++] = '.';
            for (int i = 0; i < -exponent - 1; i++)
                text [pos++] = '0';
            memcpy (text + pos, digits, ndigits);
            pos += ndigits;
        }
        text [pos] = 0;
    }
    else {
        text [pos++] = digits [0];
        if (ndigits > 1) {
            text [pos++] = '.';
            memcpy (text + pos, digits + 1, ndigits - 1);
            pos += ndigits - 1;
        }
        //  Go prints at least two exponent digits, then json trims e-0X
        int magnitude_exp = abs (exponent);
        if (exponent < 0 && magnitude_exp < 10)
            snprintf (text + pos, sizeof text - pos, "e-%d", magnitude_exp);
        else
            snprintf (text + pos, sizeof text - pos, "e%c%02d",
                      exponent < 0 ? '-' : '+', magnitude_exp);
    }
    s_puts (buf, text);
}

static void
s_indent (s_buf_t *buf, int depth)
{
    for (int i = 0; i < depth; i++)
        s_put (buf, "    ", 4);
}

static void
s_render (s_buf_t *buf, const cJSON *item, bool pretty, int depth)
{
    if (!item) {
        s_puts (buf, "null");
        return;
    }
    switch (item->type & 0xFF) {
        case cJSON_False:  s_puts (buf, "false"); break;
        case cJSON_True:   s_puts (buf, "true"); break;
        case cJSON_NULL:   s_puts (buf, "null"); break;
        case cJSON_Number: s_put_number (buf, item->valuedouble); break;
        case cJSON_String: s_put_string (buf, item->valuestring); break;
        case cJSON_Raw:
            s_puts (buf, item->valuestring ? item->valuestring : "null");
            break;
        case cJSON_Array:
        case cJSON_Object: {
            bool object = (item->type & 0xFF) == cJSON_Object;
            s_putc (buf, object ? '{' : '[');
            const cJSON *child = item->child;
            if (!child) {
                s_putc (buf, object ? '}' : ']');
                break;
            }
            for (; child; child = child->next) {
                if (pretty) {
                    s_putc (buf, '\n');
                    s_indent (buf, depth + 1);
                }
                if (object) {
                    s_put_string (buf, child->string);
                    s_put (buf, pretty ? ": " : ":", pretty ? 2 : 1);
                }
                s_render (buf, child, pretty, depth + 1);
                if (child->next)
                    s_putc (buf, ',');
            }
            if (pretty) {
                s_putc (buf, '\n');
                s_indent (buf, depth);
            }
            s_putc (buf, object ? '}' : ']');
            break;
        }
        default:
            s_puts (buf, "null");
    }
}

char *
json_render (const cJSON *item, bool pretty, size_t *len_p)
{
    s_buf_t buf = { NULL, 0, 0, false };
    s_render (&buf, item, pretty, 0);
    if (pretty)
        s_putc (&buf, '\n');
    s_reserve (&buf, 0);
    if (buf.failed || !buf.data) {
        free (buf.data);
        return NULL;
    }
    buf.data [buf.len] = 0;
    if (len_p)
        *len_p = buf.len;
    return buf.data;
}

typedef struct {
    cJSON *item;
    size_t order;
} s_member_t;

static int
s_member_compare (const void *a, const void *b)
{
    const s_member_t *ma = a, *mb = b;
    int cmp = strcmp (ma->item->string ? ma->item->string : "",
                      mb->item->string ? mb->item->string : "");
    if (cmp)
        return cmp;
    return ma->order < mb->order ? -1 : 1;
}

void
json_sort_object (cJSON *object)
{
    if (!cJSON_IsObject (object) || !object->child)
        return;
    size_t count = 0;
    for (cJSON *child = object->child; child; child = child->next)
        count++;
    s_member_t *members = malloc (count * sizeof (s_member_t));
    if (!members)
        return;
    size_t index = 0;
    for (cJSON *child = object->child; child; child = child->next, index++) {
        members [index].item = child;
        members [index].order = index;
    }
    qsort (members, count, sizeof (s_member_t), s_member_compare);
    for (size_t i = 0; i < count; i++) {
        members [i].item->prev = i ? members [i - 1].item : members [count - 1].item;
        members [i].item->next = i + 1 < count ? members [i + 1].item : NULL;
    }
    object->child = members [0].item;
    free (members);
}
