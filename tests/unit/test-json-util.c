/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* json_parse_untrusted(): the one reader of untrusted JSON documents. */
#include <stdlib.h>
#include <string.h>

#include "json-util.h"
#include "tests.h"

static int parse(const char *text, size_t size, size_t size_max, int depth_max, JsonParseError *pe) {
        _cleanup_json_ json_object *o = NULL;
        int r;

        r = json_parse_untrusted(text, size, size_max, depth_max, &o, pe);
        if (r >= 0)
                ASSERT_TRUE(o);
        return r;
}

#define PARSE(s) parse((s), strlen(s), 1024, 8, &pe)

static void assert_where(const JsonParseError *pe, unsigned line, unsigned column, const char *reason) {
        char buf[JSON_PARSE_ERROR_STRING_MAX];

        if (pe->line != line || pe->column != column || !strstr(pe->reason, reason)) {
                fprintf(stderr, "got %s, expected line %u, column %u: %s\n",
                        json_parse_error_to_string(pe, buf, sizeof(buf)), line, column, reason);
                exit(EXIT_FAILURE);
        }
}

TEST(accepted) {
        JsonParseError pe;

        ASSERT_OK(PARSE("{}"));
        ASSERT_OK(PARSE("{\"a\": [1, 2, {\"b\": null}]}"));
        ASSERT_OK(PARSE("{}\n \t\r\n"));
        ASSERT_OK(PARSE(" {}"));
        ASSERT_OK(PARSE("[]"));       /* the type is the caller's check */
        ASSERT_OK(PARSE("\"s\""));
}

TEST(refused) {
        char buf[JSON_PARSE_ERROR_STRING_MAX];
        JsonParseError pe;

        ASSERT_ERR(PARSE(""), EBADMSG);
        assert_where(&pe, 1, 1, "truncated");
        ASSERT_ERR(PARSE("{\"a\":\n  [1,\n"), EBADMSG);
        assert_where(&pe, 3, 1, "truncated");
        ASSERT_ERR(PARSE("{\"a\":\n  x}"), EBADMSG);
        ASSERT_TRUE(pe.line == 2);
        ASSERT_ERR(PARSE("{} {}"), EBADMSG);
        assert_where(&pe, 1, 4, "trailing data");
        ASSERT_ERR(PARSE("{}\nx"), EBADMSG);
        assert_where(&pe, 2, 1, "trailing data");
        ASSERT_ERR(parse("{\"a\":1}\0{}", 10, 1024, 8, &pe), EBADMSG);
        assert_where(&pe, 1, 8, "NUL");
        ASSERT_TRUE(pe.offset == 7);
        ASSERT_STREQ(json_parse_error_to_string(&pe, buf, sizeof(buf)), "line 1, column 8: a NUL byte");

        /* Sizes: the limit itself is fine, one more byte is not. */
        ASSERT_OK(parse("{}  ", 4, 4, 8, &pe));
        ASSERT_ERR(parse("{}   ", 5, 4, 8, &pe), E2BIG);
        ASSERT_TRUE(pe.line == 0);
        ASSERT_TRUE(strstr(json_parse_error_to_string(&pe, buf, sizeof(buf)), "limit"));

        /* The error is optional. */
        ASSERT_ERR(parse("{", 1, 16, 8, NULL), EBADMSG);
}

TEST(depth) {
        JsonParseError pe;

        ASSERT_OK(parse("[[[]]]", 6, 64, 3, &pe));
        ASSERT_ERR(parse("[[[[]]]]", 8, 64, 3, &pe), EBADMSG);
        ASSERT_TRUE(pe.line == 1 && pe.column <= 5);
        /* Deep nesting far beyond the limit ends early, not in a deep recursion. */
        {
                size_t n = 100000;
                char *deep = malloc(n);

                ASSERT_TRUE(deep);
                memset(deep, '[', n);
                ASSERT_ERR(parse(deep, n, n, 16, &pe), EBADMSG);
                ASSERT_TRUE(pe.offset <= 17);
                free(deep);
        }
}

int main(void) {
        test_accepted();
        test_refused();
        test_depth();
        return 0;
}
