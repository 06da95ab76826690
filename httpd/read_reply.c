/*  read_reply: catalog REP bodies as Consul's HTTP responses (see
    read_reply.h). */
#include "read_reply.h"
#include "json_render.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

static void
s_add_index_header (struct MHD_Response *response, const char *name, uint64_t value)
{
    char text [32];
    snprintf (text, sizeof text, "%" PRIu64, value);
    MHD_add_response_header (response, name, text);
}

uint64_t
read_reply_index (const cJSON *body)
{
    const cJSON *index = cJSON_GetObjectItemCaseSensitive (body, "Index");
    return cJSON_IsNumber (index) && index->valuedouble > 0
         ? (uint64_t) index->valuedouble : 0;
}

struct MHD_Response *
read_reply_render (const cJSON *body, bool pretty, bool write, bool meta,
                   char **text_p, size_t *len_p)
{
    const cJSON *result = cJSON_GetObjectItemCaseSensitive (body, "Result");
    uint64_t index = read_reply_index (body);
    size_t len = 0;
    char *text = json_render (result, pretty, &len);
    struct MHD_Response *response = text
        ? MHD_create_response_from_buffer (len, text, MHD_RESPMEM_MUST_FREE) : NULL;
    if (!response) {
        free (text);
        return NULL;
    }
    MHD_add_response_header (response, MHD_HTTP_HEADER_CONTENT_TYPE,
                             "application/json");
    //  Not a Consul header on writes, but it tells a client which index to
    //  wait past to read its own write.
    if ((write || meta) && index > 0)
        s_add_index_header (response, "X-Consul-Index", index);
    if (meta) {
        const cJSON *leader = cJSON_GetObjectItemCaseSensitive (body, "KnownLeader");
        const cJSON *contact = cJSON_GetObjectItemCaseSensitive (body, "LastContact");
        MHD_add_response_header (response, "X-Consul-KnownLeader",
                                 cJSON_IsTrue (leader) ? "true" : "false");
        s_add_index_header (response, "X-Consul-LastContact",
                            cJSON_IsNumber (contact) && contact->valuedouble > 0
                            ? (uint64_t) contact->valuedouble : 0);
    }
    *text_p = text;
    *len_p = len;
    return response;
}
