/*  json_syntax: checks that a request body is one well-formed JSON value
    and, when it is not, says why in the words of Go's encoding/json
    scanner ("unexpected EOF", "invalid character 'x' after object key",
    ...), so "Request decode failed: <reason>" reads as Consul's does. */
#ifndef MRD_JSON_SYNTAX_H
#define MRD_JSON_SYNTAX_H

#include <stddef.h>

//  Nesting deeper than this is refused (cJSON's own limit).
#define JSON_SYNTAX_DEPTH_MAX 1000

//  Returns 0 when text[0..len) is exactly one JSON value with optional
//  surrounding whitespace, else -1 with Go's reason in reason.
int json_syntax_check (const char *text, size_t len, char *reason, size_t size);

#endif
