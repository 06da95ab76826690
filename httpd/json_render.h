/*  json_render: renders a cJSON value exactly as Go's encoding/json does
    for Consul's HTTP API: compact (json.Marshal) or indented by four spaces
    with a trailing newline (json.MarshalIndent + "\n", Consul's ?pretty).
    Strings are escaped like Go (<, >, & as \u003c \u003e \u0026, U+2028 and
    U+2029 escaped, invalid UTF-8 replaced by U+FFFD); integral numbers print
    without exponent below 1e21, others in Go's shortest form.
    Object keys keep their order: callers build maps sorted, as Go does. */
#ifndef HTTPD_JSON_RENDER_H
#define HTTPD_JSON_RENDER_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

//  Renders item; *len_p gets the length (without the terminating NUL).
//  Caller owns return value (free). NULL only on allocation failure.
char *json_render (const cJSON *item, bool pretty, size_t *len_p);

//  Sorts an object's members by key (byte order), as Go renders maps.
void json_sort_object (cJSON *object);

#endif
