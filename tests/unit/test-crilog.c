/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* CRI line formatting, JSON lines, the journal-field checks and the
 * --since/--until time parser. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crilog.h"
#include "journal.h"
#include "name.h"
#include "tests.h"

#define APP "0123456789abcdef0123456789abcdef"

static char *format(const PodJournalEntry *e, size_t *ret_len) {
        char *buf = NULL;
        size_t len = 0, cap = 0;

        ASSERT_OK(crilog_format_entry(e, &buf, &len, &cap));
        *ret_len = len;
        return buf;
}

static void test_time(void) {
        char b[CRILOG_TIME_LEN + 1];

        crilog_format_time(0, b);
        ASSERT_STREQ(b, "1970-01-01T00:00:00.000000000Z");
        /* 2026-11-23T12:34:56.000789Z */
        crilog_format_time(UINT64_C(1795437296) * 1000000 + 789, b);
        ASSERT_STREQ(b, "2026-11-23T12:34:56.000789000Z");
        ASSERT_TRUE(strlen(b) == CRILOG_TIME_LEN);
        /* The cached second must not leak into the next one. */
        crilog_format_time(UINT64_C(1795437297) * 1000000 + 999999, b);
        ASSERT_STREQ(b, "2026-11-23T12:34:57.999999000Z");
        /* Leap-year day. */
        crilog_format_time(UINT64_C(1709164800) * 1000000, b);
        ASSERT_STREQ(b, "2024-02-29T00:00:00.000000000Z");
}

static void test_lines(void) {
        PodJournalEntry e = {
                .app_id = APP, .message = "hello", .message_len = 5, .priority = 6,
                .stream = POD_LOG_STDOUT, .realtime_usec = UINT64_C(1795437296) * 1000000,
        };
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *d = NULL, *n = NULL;
        size_t len;

        a = format(&e, &len);
        ASSERT_TRUE(len == strlen("2026-11-23T12:34:56.000000000Z stdout F hello\n"));
        ASSERT_TRUE(memcmp(a, "2026-11-23T12:34:56.000000000Z stdout F hello\n", len) == 0);

        e.stream = POD_LOG_STDERR;
        e.line_break = POD_LINE_BREAK_LINE_MAX;
        b = format(&e, &len);
        ASSERT_TRUE(memcmp(b, "2026-11-23T12:34:56.000000000Z stderr P hello\n", len) == 0);

        /* Bytes stay bytes: NUL, invalid UTF-8, CR. */
        e.line_break = POD_LINE_BREAK_NEWLINE;
        e.message = "a\0\xff\r";
        e.message_len = 4;
        c = format(&e, &len);
        ASSERT_TRUE(len == CRILOG_TIME_LEN + 10 + 4 + 1);
        ASSERT_TRUE(memcmp(c + CRILOG_TIME_LEN, " stderr F a\0\xff\r\n", 15) == 0);

        /* A newline inside a message cannot forge a line: each piece gets
         * our own time, stream and tag; the entry's tag goes on the last. */
        e.message = "one\n2026-01-01T00:00:00.000000000Z stdout F forged";
        e.message_len = strlen(e.message);
        e.line_break = POD_LINE_BREAK_LINE_MAX;
        d = format(&e, &len);
        ASSERT_TRUE(memcmp(d + CRILOG_TIME_LEN, " stderr F one\n", 14) == 0);
        ASSERT_TRUE(memcmp(d + CRILOG_TIME_LEN + 14 + CRILOG_TIME_LEN, " stderr P 2026-01-01", 20) == 0);
        ASSERT_TRUE(d[len - 1] == '\n');

        /* An empty message is an empty F line. */
        e.message = "";
        e.message_len = 0;
        e.line_break = POD_LINE_BREAK_NEWLINE;
        n = format(&e, &len);
        ASSERT_TRUE(len == CRILOG_TIME_LEN + 11);
        ASSERT_TRUE(memcmp(n + CRILOG_TIME_LEN, " stderr F \n", 11) == 0);
}

static void test_json(void) {
        PodJournalEntry e = {
                .app_id = APP, .message = "q\"b\\\x01\xff\xc3\xa9", .message_len = 8, .priority = 3,
                .stream = POD_LOG_STDERR, .realtime_usec = 0,
        };
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, cap = 0;

        ASSERT_OK(log_format_json(&e, "web", &buf, &len, &cap));
        buf[len] = 0; /* cap > len: the escapes reserve more than they use */
        ASSERT_STREQ(buf, "{\"time\":\"1970-01-01T00:00:00.000000000Z\",\"stream\":\"stderr\",\"app\":\"web\","
                          "\"app_id\":\"" APP "\",\"message\":\"q\\\"b\\\\\\u0001\xef\xbf\xbd\xc3\xa9\",\"partial\":false}\n");
}

/* The C1 control CSI (U+009B) is escaped in JSON too. */
static void test_json_c1(void) {
        PodJournalEntry e = { .app_id = APP, .message = "\xc2\x9b" "2J\xc2\xa0", .message_len = 6 };
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, cap = 0;

        ASSERT_OK(log_format_json(&e, "web", &buf, &len, &cap));
        buf[len] = 0;
        ASSERT_TRUE(strstr(buf, "\"message\":\"\\u009b2J\xc2\xa0\""));
}

static char *text(const char *msg, size_t n, int width, bool escape, PodLineBreak lb) {
        PodJournalEntry e = { .app_id = APP, .message = msg, .message_len = n, .line_break = lb };
        char *buf = NULL;
        size_t len = 0, cap = 0;

        ASSERT_OK(log_format_text(&e, "web", width, false, escape, &buf, &len, &cap));
        ASSERT_OK(log_escape_append("", 1, false, &buf, &len, &cap)); /* "\x00" ends it for the asserts */
        len -= 4;
        buf[len] = 0;
        return buf;
}

static void test_text_escape(void) {
        /* What the issue's app did: CR and an escape sequence to draw over
         * its own prefix, a title, a clear screen. */
        static const char forge[] = "\rother | forged\x1b]0;title\x07\x1b[2J";
        char *t;

        t = text(forge, sizeof(forge) - 1, 5, true, POD_LINE_BREAK_NEWLINE);
        ASSERT_STREQ(t, "web   | \\rother | forged\\x1b]0;title\\a\\x1b[2J\n");
        free(t);
        /* Raw only when asked. */
        t = text(forge, sizeof(forge) - 1, 0, false, POD_LINE_BREAK_NEWLINE);
        ASSERT_TRUE(memcmp(t, forge, sizeof(forge) - 1) == 0 && t[sizeof(forge) - 1] == '\n');
        free(t);
        /* Tab kept; BS, DEL, LF inside, C1 (CSI), invalid and truncated
         * UTF-8 escaped per byte; valid UTF-8 and backslash kept; a piece
         * of a longer line gets no newline. */
        t = text("a\tb\bc\x7f" "d\ne\xc2\x9b" "f\xff\xc3\xa9\\\xe2\x82", 18, 0, true, POD_LINE_BREAK_LINE_MAX);
        ASSERT_STREQ(t, "a\tb\\bc\\x7fd\\ne\\xc2\\x9bf\\xff\xc3\xa9\\\\xe2\\x82");
        free(t);
        /* NUL, other C0. */
        t = text("\0\x01\x1f", 3, 0, true, POD_LINE_BREAK_NEWLINE);
        ASSERT_STREQ(t, "\\x00\\x01\\x1f\n");
        free(t);
}

static void test_cri_escape(void) {
        /* --cri-format on a terminal: the format's newlines stay. */
        PodJournalEntry e = { .app_id = APP, .message = "x\x1b[2J\ny", .message_len = 7, .stream = POD_LOG_STDOUT };
        _cleanup_free_ char *cri = NULL, *out = NULL;
        size_t len = 0, cap = 0, olen = 0, ocap = 0;

        ASSERT_OK(crilog_format_entry(&e, &cri, &len, &cap));
        ASSERT_OK(log_escape_append(cri, len, true, &out, &olen, &ocap));
        ASSERT_TRUE(olen == len + 3);
        ASSERT_TRUE(memcmp(out + CRILOG_TIME_LEN, " stdout F x\\x1b[2J\n", 19) == 0);
        ASSERT_TRUE(out[olen - 1] == '\n' && memcmp(out + olen - 3, " y\n", 3) == 0);
}

#define POD "fedcba9876543210fedcba9876543210"

static PodJournalFields app_fields(void) {
        return (PodJournalFields) {
                .message = "m", .message_len = 1,
                .pod_id = POD, .pod_id_len = 32,
                .app_id = APP, .app_id_len = 32,
                .app_name = "web", .app_name_len = 3,
                .unit = "peapod-my\\x2dpod-web.service", .unit_len = strlen("peapod-my\\x2dpod-web.service"),
                .priority = "3", .priority_len = 1, .line_break = "line-max", .line_break_len = 8,
                .realtime_usec = 42,
        };
}

static void test_parse(void) {
        PodJournalNames names;
        PodJournalEntry e;
        PodJournalFields f = app_fields();

        ASSERT_TRUE(pod_journal_entry_parse(&f, &names, &e) == 1);
        ASSERT_STREQ(e.app_id, APP);
        ASSERT_STREQ(e.pod_id, POD);
        ASSERT_STREQ(e.app_name, "web");
        ASSERT_TRUE(e.stream == POD_LOG_STDERR);
        ASSERT_TRUE(e.line_break == POD_LINE_BREAK_LINE_MAX);
        ASSERT_TRUE(e.realtime_usec == 42);

        f.priority = "6";
        f.line_break = "nul";
        f.line_break_len = 3;
        ASSERT_TRUE(pod_journal_entry_parse(&f, &names, &e) == 1);
        ASSERT_TRUE(e.stream == POD_LOG_STDOUT);
        ASSERT_TRUE(e.line_break == POD_LINE_BREAK_NEWLINE);

        /* Bad priorities count as stdout (LOG_INFO). */
        f.priority = "x";
        ASSERT_TRUE(pod_journal_entry_parse(&f, &names, &e) == 1);
        ASSERT_TRUE(e.priority == 6 && e.stream == POD_LOG_STDOUT);

        /* Not an app's line: ids that are not ids, missing fields, no
         * message. */
        f = app_fields();
        f.app_id = "0123456789ABCDEF0123456789abcdef";
        ASSERT_TRUE(pod_journal_entry_parse(&f, &names, &e) == 0);
        f.app_id = NULL;
        ASSERT_TRUE(pod_journal_entry_parse(&f, &names, &e) == 0);
        f = app_fields();
        f.pod_id_len = 31;
        ASSERT_TRUE(pod_journal_entry_parse(&f, &names, &e) == 0);
        f.pod_id = NULL;
        ASSERT_TRUE(pod_journal_entry_parse(&f, &names, &e) == 0);
        f = app_fields();
        f.app_name = "Web";
        ASSERT_TRUE(pod_journal_entry_parse(&f, &names, &e) == 0);
        f.app_name = NULL;
        ASSERT_TRUE(pod_journal_entry_parse(&f, &names, &e) == 0);
        f = app_fields();
        f.message = NULL;
        ASSERT_TRUE(pod_journal_entry_parse(&f, &names, &e) == 0);

        /* Fields sent by someone else: not from the unit of the app they
         * name, from no unit, or next to the unit's own fields. */
        f = app_fields();
        f.unit = NULL;
        ASSERT_TRUE(pod_journal_entry_parse(&f, &names, &e) == 0);
        f.unit = "user@1000.service";
        f.unit_len = strlen(f.unit);
        ASSERT_TRUE(pod_journal_entry_parse(&f, &names, &e) == 0);
        f.unit = "peapod-other-db.service";
        f.unit_len = strlen(f.unit);
        ASSERT_TRUE(pod_journal_entry_parse(&f, &names, &e) == 0);
        f.unit = "peapod-x-myweb.service";
        f.unit_len = strlen(f.unit);
        ASSERT_TRUE(pod_journal_entry_parse(&f, &names, &e) == 0);
        f.unit = "peapod--web.service";
        f.unit_len = strlen(f.unit);
        ASSERT_TRUE(pod_journal_entry_parse(&f, &names, &e) == 0);
        f.unit = "peapod-x-web.service";
        f.unit_len = strlen(f.unit);
        ASSERT_TRUE(pod_journal_entry_parse(&f, &names, &e) == 1);
        f.conflicting = true;
        ASSERT_TRUE(pod_journal_entry_parse(&f, &names, &e) == 0);
}

static uint64_t t(const char *s, uint64_t now) {
        uint64_t v = 0;

        if (log_time_parse(s, now, &v) < 0) {
                fprintf(stderr, "log_time_parse(\"%s\") failed\n", s);
                exit(EXIT_FAILURE);
        }
        return v;
}

static void test_time_parse(void) {
        const uint64_t now = UINT64_C(1795437296) * 1000000; /* 2026-11-23T12:34:56Z */
        const uint64_t S = 1000000;
        uint64_t v;

        setenv("TZ", "UTC", 1);
        tzset();
        ASSERT_TRUE(t("now", now) == now);
        ASSERT_TRUE(t("-5m", now) == now - 300 * S);
        ASSERT_TRUE(t("+1h", now) == now + 3600 * S);
        ASSERT_TRUE(t("10s ago", now) == now - 10 * S);
        ASSERT_TRUE(t("1h30m ago", now) == now - 5400 * S);
        ASSERT_TRUE(t("1 min ago", now) == now - 60 * S);
        ASSERT_TRUE(t("-250ms", now) == now - 250000);
        ASSERT_TRUE(t("2d ago", now) == now - 2 * 86400 * S);
        ASSERT_TRUE(t("@1795437296", now) == now);
        ASSERT_TRUE(t("2026-11-23T12:34:56Z", now) == now);
        ASSERT_TRUE(t("2026-11-23T12:34:56.5Z", now) == now + S / 2);
        ASSERT_TRUE(t("2026-11-23T12:34:56.123456789Z", now) == now + 123456);
        ASSERT_TRUE(t("2026-11-23T13:34:56+01:00", now) == now);
        ASSERT_TRUE(t("2026-11-23T11:34:56-01:00", now) == now);
        ASSERT_TRUE(t("2026-11-23 12:34:56", now) == now);
        ASSERT_TRUE(t("2026-11-23 12:34", now) == now - 56 * S);
        ASSERT_TRUE(t("2026-11-23", now) == now - (12 * 3600 + 34 * 60 + 56) * S);
        ASSERT_TRUE(t("today", now) == now - (12 * 3600 + 34 * 60 + 56) * S);
        ASSERT_TRUE(t("yesterday", now) == now - (36 * 3600 + 34 * 60 + 56) * S);
        /* Local time without a zone. */
        setenv("TZ", "EST5", 1);
        tzset();
        ASSERT_TRUE(t("2026-11-23 07:34:56", now) == now);
        ASSERT_TRUE(t("2026-11-23T12:34:56Z", now) == now);

        const char *bad[] = {
                "", "5m", "-", "-5", "-5 parsecs", "ago", " ago", "10s  agoo", "@", "@-1", "@12x",
                "2026-13-01", "2026-00-10", "2026-11-32", "1969-12-31", "2026-11-23 25:00", "2026-11-23T12:60",
                "2026-11-23T12:34:56+0100", "2026-11-23T12:34:56 Z", "2026-11-23T12:34:56+24:00", "2026-1-1",
                "26-11-23", "2026-11-23x", "tomorrow", "-99999999999999s",
                "2026-11-23T12:34:56.Z",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (log_time_parse(bad[i], now, &v) >= 0) {
                        fprintf(stderr, "log_time_parse(\"%s\") accepted it\n", bad[i]);
                        exit(EXIT_FAILURE);
                }

        /* Spans that do not fit in 64 bits of microseconds are refused, not
         * wrapped: 1000000000w alone is 6e20 µs; 200000000d (1.7e19) only twice;
         * the last fits as a span but not once added to now. */
        ASSERT_ERR(log_time_parse("-1000000000w", now, &v), ERANGE);
        ASSERT_ERR(log_time_parse("+1000000000w", now, &v), ERANGE);
        ASSERT_ERR(log_time_parse("1000000000w ago", now, &v), ERANGE);
        ASSERT_ERR(log_time_parse("-200000000d 200000000d", now, &v), ERANGE);
        ASSERT_ERR(log_time_parse("+30000000w 3503982d", now, &v), ERANGE);
        ASSERT_OK(log_time_parse("-30000000w 3503982d", now, &v));
        ASSERT_TRUE(v == 0);
        ASSERT_OK(log_time_parse("+1000000000h", now, &v));
        ASSERT_TRUE(v == now + UINT64_C(1000000000) * 3600 * S);
}

static void test_state_file(void) {
        _cleanup_(crilog_state_done) CriLogState st = {};
        _cleanup_free_ char *text = NULL;
        static const char *bad[] = {
                "", "\n1 2 3\n", "c\n", "c\n1 2\n", "c\n1 2 3 4\n", "c\n-1 2 3\n", "c\n+1 2 3\n", "c\n 1 2 3\n",
                "c\n1  2 3\n", "c\n1 2 3\n\n", "c\n18446744073709551616 2 3\n", "c d\n1 2 3\n", "c\t\n1 2 3\n",
        };

        ASSERT_OK(crilog_state_parse("s=ab;i=1\n18446744073709551615 2 3\n", 34, &st));
        ASSERT_STREQ(st.cursor, "s=ab;i=1");
        ASSERT_TRUE(st.offset == UINT64_MAX && st.dev == 2 && st.ino == 3);
        ASSERT_TRUE(crilog_state_format(&st, &text) == 34);
        ASSERT_STREQ(text, "s=ab;i=1\n18446744073709551615 2 3\n");
        crilog_state_done(&st);
        ASSERT_OK(crilog_state_parse("c\n1 2 3", 7, &st));
        crilog_state_done(&st);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (crilog_state_parse(bad[i], strlen(bad[i]), &st) >= 0) {
                        fprintf(stderr, "crilog_state_parse(\"%s\") accepted it\n", bad[i]);
                        exit(EXIT_FAILURE);
                }
        /* A NUL inside is not ours either. */
        ASSERT_ERR(crilog_state_parse("c\0d\n1 2 3\n", 10, &st), EBADMSG);
}

static void test_cursor(void) {
        char id[33];
        uint64_t seq = 0;

        ASSERT_OK(journal_cursor_seqnum("s=7fc3907502384c97854ecfc97746d188;i=7a53b;b=de900016575743439fbbad3fa8ba5e5a;"
                                        "m=2504510bd;t=660f09b6ad286;x=44bdedde360374f3", id, &seq));
        ASSERT_STREQ(id, "7fc3907502384c97854ecfc97746d188");
        ASSERT_TRUE(seq == 0x7a53b);
        ASSERT_ERR(journal_cursor_seqnum("i=1;s=7fc3907502384c97854ecfc97746d188;", id, &seq), EINVAL);
        ASSERT_ERR(journal_cursor_seqnum("s=7fc3;i=1;", id, &seq), EINVAL);
        ASSERT_ERR(journal_cursor_seqnum("s=7fc3907502384c97854ecfc97746d188;i=;b=", id, &seq), EINVAL);
        ASSERT_ERR(journal_cursor_seqnum("", id, &seq), EINVAL);
}

int main(void) {
        test_cursor();
        test_state_file();
        test_time();
        test_lines();
        test_json();
        test_json_c1();
        test_text_escape();
        test_cri_escape();
        test_parse();
        test_time_parse();
        return 0;
}
