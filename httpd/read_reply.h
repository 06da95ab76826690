/*  read_reply: turns a catalog REP body ({"Index","KnownLeader",
    "LastContact","Result"}) into the HTTP response Consul sends: the
    Result as JSON and the X-Consul-* headers (docs/http-api.md,
    "Headers"). Shared by the catalog link and the remote views. */
#ifndef HTTPD_READ_REPLY_H
#define HTTPD_READ_REPLY_H

#include <cjson/cJSON.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  The reply's Index, 0 when absent or not positive.
uint64_t read_reply_index (const cJSON *body);

//  Renders body's Result with the headers a write (X-Consul-Index) or a
//  read (meta: all X-Consul-*) carries. Returns NULL on allocation failure;
//  *text_p/*len_p get the body, which the response owns.
struct MHD_Response *read_reply_render (const cJSON *body, bool pretty, bool write,
                                        bool meta, char **text_p, size_t *len_p);

#endif
