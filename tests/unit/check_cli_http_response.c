/*  Unit tests of cli/http_response: the incremental HTTP/1.1 response
    parser with Content-Length, chunked and close-delimited bodies, interim
    responses, and malformed, truncated and oversize input. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../cli/http_response.h"

//  Feeds text whole, or one byte at a time when bytewise. Returns the last
//  feed result.
static int
s_feed (http_response_t *response, const char *text, size_t size,
        bool bytewise)
{
    if (!bytewise)
        return http_response_feed (response, text, size);
    int rc = 0;
    for (size_t i = 0; i < size && rc == 0; i++)
        rc = http_response_feed (response, text + i, 1);
    return rc;
}

START_TEST (test_content_length)
{
    static const char text [] =
        "HTTP/1.1 200 OK\r\n"
        "Content-Type: application/json\r\n"
        "X-Consul-Index:  42 \r\n"
        "Content-Length: 13\r\n"
        "\r\n"
        "[\"dc1\",\"dc2\"]"
        "trailing garbage is ignored";
    for (int bytewise = 0; bytewise < 2; bytewise++) {
        http_response_t *response = http_response_new (false);
        ck_assert_int_eq (s_feed (response, text, sizeof (text) - 1, bytewise),
                          1);
        ck_assert_int_eq (http_response_status (response), 200);
        ck_assert_str_eq (http_response_header (response, "x-consul-index"),
                          "42");
        ck_assert_str_eq (http_response_header (response, "CONTENT-TYPE"),
                          "application/json");
        ck_assert_ptr_null (http_response_header (response, "X-Missing"));
        ck_assert_int_eq (http_response_body_size (response), 13);
        ck_assert_str_eq (http_response_body (response), "[\"dc1\",\"dc2\"]");
        //  Complete: further bytes and EOF change nothing.
        ck_assert_int_eq (http_response_feed (response, "x", 1), 1);
        ck_assert_int_eq (http_response_eof (response), 1);
        http_response_destroy (&response);
        ck_assert_ptr_null (response);
        http_response_destroy (&response);      //  idempotent
    }
    //  Partial input asks for more; an empty body completes at once.
    http_response_t *response = http_response_new (false);
    ck_assert_int_eq (http_response_feed (response, "HTTP/1.1 200 OK\r\n", 17),
                      0);
    ck_assert_int_eq (http_response_feed (response, "Content-Length: 0\r\n\r\n",
                                          21), 1);
    ck_assert_int_eq (http_response_body_size (response), 0);
    ck_assert_str_eq (http_response_body (response), "");
    http_response_destroy (&response);
}
END_TEST

START_TEST (test_chunked)
{
    static const char text [] =
        "HTTP/1.1 500 Internal Server Error\r\n"
        "Transfer-Encoding: Chunked\r\n"
        "\r\n"
        "5\r\nNo pa\r\n"
        "00f;ext=1\r\nth to datacente\r\n"
        "1 \r\nr\r\n"
        "0\r\n"
        "X-Trailer: yes\r\n"
        "\r\n";
    for (int bytewise = 0; bytewise < 2; bytewise++) {
        http_response_t *response = http_response_new (false);
        ck_assert_int_eq (s_feed (response, text, sizeof (text) - 1, bytewise),
                          1);
        ck_assert_int_eq (http_response_status (response), 500);
        ck_assert_str_eq (http_response_body (response),
                          "No path to datacenter");
        ck_assert_int_eq (http_response_body_size (response), 21);
        http_response_destroy (&response);
    }
}
END_TEST

START_TEST (test_close_delimited_and_no_body)
{
    //  Neither Content-Length nor chunked: the body ends at EOF.
    http_response_t *response = http_response_new (false);
    const char *text = "HTTP/1.0 200 OK\r\nServer: x\r\n\r\nhello ";
    ck_assert_int_eq (http_response_feed (response, text, strlen (text)), 0);
    ck_assert_int_eq (http_response_feed (response, "world", 5), 0);
    ck_assert_int_eq (http_response_eof (response), 1);
    ck_assert_str_eq (http_response_body (response), "hello world");
    http_response_destroy (&response);

    //  204, 304 and HEAD answers have no body whatever the headers say.
    response = http_response_new (false);
    text = "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n";
    ck_assert_int_eq (http_response_feed (response, text, strlen (text)), 1);
    ck_assert_int_eq (http_response_body_size (response), 0);
    http_response_destroy (&response);
    response = http_response_new (true);
    text = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n";
    ck_assert_int_eq (http_response_feed (response, text, strlen (text)), 1);
    http_response_destroy (&response);

    //  Interim 1xx responses are skipped; a status line without reason
    //  is accepted.
    response = http_response_new (false);
    text = "HTTP/1.1 100 Continue\r\nX-A: 1\r\n\r\n"
           "HTTP/1.1 404\r\nContent-Length: 2\r\n\r\nno";
    ck_assert_int_eq (http_response_feed (response, text, strlen (text)), 1);
    ck_assert_int_eq (http_response_status (response), 404);
    ck_assert_ptr_null (http_response_header (response, "X-A"));
    ck_assert_str_eq (http_response_body (response), "no");
    http_response_destroy (&response);
}
END_TEST

//  Each text must be rejected (-1) by feed or, for truncation, by eof.
START_TEST (test_malformed)
{
    static const char *bad [] = {
        "HTTP/1.1 20 OK\r\n\r\n",
        "HTTP/2.0 200 OK\r\n\r\n",
        "HTTP/1.1 200OK\r\n\r\n",
        "ICY 200 OK\r\n\r\n",
        "HTTP/1.1 099 Low\r\n\r\n",
        "HTTP/1.1 600 High\r\n\r\n",
        "HTTP/1.1 200 OK\n\r\n",                     //  bare LF
        "HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n",         //  bare CR
        "HTTP/1.1 200 OK\r\n folded: x\r\n\r\n",
        "HTTP/1.1 200 OK\r\nNo-Colon\r\n\r\n",
        "HTTP/1.1 200 OK\r\nSpace : x\r\n\r\n",
        "HTTP/1.1 200 OK\r\n: empty\r\n\r\n",
        "HTTP/1.1 200 OK\r\nA: \x01\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n"
            "Transfer-Encoding: chunked\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5x\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            "11111111111111111\r\n",                  //  chunk size overflow
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            "8000000\r\n",                            //  beyond the body limit
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            "0\r\nbad trailer\r\n\r\n",
        "HTTP/1.1 101 Switching Protocols\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof (bad) / sizeof (bad [0]); i++) {
        http_response_t *response = http_response_new (false);
        int rc = http_response_feed (response, bad [i], strlen (bad [i]));
        ck_assert_msg (rc == -1, "case %zu: feed returned %d", i, rc);
        ck_assert_msg (*http_response_error (response), "case %zu: no text", i);
        //  An error is final.
        ck_assert_int_eq (http_response_feed (response, "HTTP/1.1", 8), -1);
        ck_assert_int_eq (http_response_eof (response), -1);
        http_response_destroy (&response);
    }
    //  A NUL inside a header line.
    http_response_t *response = http_response_new (false);
    ck_assert_int_eq (http_response_feed (response, "HTTP/1.1 200 OK\r\nA\0: b"
                                          "\r\n\r\n", 25), -1);
    http_response_destroy (&response);
}
END_TEST

START_TEST (test_truncated_and_oversize)
{
    static const char *truncated [] = {
        "",
        "HTTP/1.1 200 OK\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n",
    };
    for (size_t i = 0; i < sizeof (truncated) / sizeof (truncated [0]); i++) {
        http_response_t *response = http_response_new (false);
        ck_assert_int_eq (http_response_feed (response, truncated [i],
                                              strlen (truncated [i])), 0);
        ck_assert_msg (http_response_eof (response) == -1, "case %zu", i);
        ck_assert_msg (strstr (http_response_error (response), "EOF"),
                       "case %zu: %s", i, http_response_error (response));
        http_response_destroy (&response);
    }
    //  A header section beyond the limit, line by line or in one line.
    http_response_t *response = http_response_new (false);
    int rc = http_response_feed (response, "HTTP/1.1 200 OK\r\n", 17);
    char line [1024];
    memset (line, 'a', sizeof (line));
    memcpy (line, "X-Big: ", 7);
    memcpy (line + sizeof (line) - 2, "\r\n", 2);
    for (int i = 0; i < 100 && rc == 0; i++)
        rc = http_response_feed (response, line, sizeof (line));
    ck_assert_int_eq (rc, -1);
    http_response_destroy (&response);
    response = http_response_new (false);
    char *huge = malloc (HTTP_HEADERS_MAX + 10);
    memset (huge, 'b', HTTP_HEADERS_MAX + 10);
    ck_assert_int_eq (http_response_feed (response, huge, HTTP_HEADERS_MAX + 10),
                      -1);
    free (huge);
    http_response_destroy (&response);
    //  Too many headers.
    response = http_response_new (false);
    rc = http_response_feed (response, "HTTP/1.1 200 OK\r\n", 17);
    for (int i = 0; i < 200 && rc == 0; i++)
        rc = http_response_feed (response, "A: b\r\n", 6);
    ck_assert_int_eq (rc, -1);
    http_response_destroy (&response);
    //  A close-delimited body beyond the limit.
    response = http_response_new (false);
    rc = http_response_feed (response, "HTTP/1.1 200 OK\r\n\r\n", 19);
    char *block = calloc (1, 1024 * 1024);
    for (int i = 0; i < 70 && rc == 0; i++)
        rc = http_response_feed (response, block, 1024 * 1024);
    free (block);
    ck_assert_int_eq (rc, -1);
    http_response_destroy (&response);
}
END_TEST

START_TEST (test_token_chars)
{
    const char *valid = "Content-Length!#$%&'*+-.^_`|~09azAZ";
    for (const char *p = valid; *p; p++)
        ck_assert_msg (http_token_char ((unsigned char) *p), "'%c'", *p);
    const char *invalid = " \t:;\"(),/<=>?@[\\]{}\x7f\x80";
    for (const char *p = invalid; *p; p++)
        ck_assert_msg (!http_token_char ((unsigned char) *p), "0x%02x",
                       (unsigned char) *p);
    ck_assert (!http_token_char (0));
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("cli_http_response");
    TCase *tc = tcase_create ("parser");
    tcase_set_timeout (tc, 20);
    tcase_add_test (tc, test_content_length);
    tcase_add_test (tc, test_chunked);
    tcase_add_test (tc, test_close_delimited_and_no_body);
    tcase_add_test (tc, test_malformed);
    tcase_add_test (tc, test_truncated_and_oversize);
    tcase_add_test (tc, test_token_chars);
    suite_add_tcase (suite, tc);
    SRunner *runner = srunner_create (suite);
    srunner_run_all (runner, CK_NORMAL);
    int failed = srunner_ntests_failed (runner);
    srunner_free (runner);
    return failed ? 1 : 0;
}
