/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "crilog.h"
#include "fuzz.h"
#include "journal.h"
#include "name.h"

/* Journal fields are untrusted: any local process may log into the
 * namespace with any PEAPOD_* fields, PRIORITY, _LINE_BREAK or MESSAGE
 * bytes. Input: 8 bytes of time, then pod id, app id, app name, unit,
 * priority and line break separated by NUL bytes, then the message (which
 * may hold anything).
 * Whatever comes in, the CRI output is whole lines of our own prefix, one
 * per message line, and the JSON line parses. */
static const void *next_part(const uint8_t **p, const uint8_t *end, size_t *ret_len) {
        const uint8_t *start = *p, *z = memchr(start, 0, (size_t) (end - start));

        if (!z)
                return NULL;
        *ret_len = (size_t) (z - start);
        *p = z + 1;
        return start;
}

static void check_cri(const PodJournalEntry *e) {
        char *buf = NULL;
        size_t len = 0, cap = 0, lines = 0, expected = 1;

        if (crilog_format_entry(e, &buf, &len, &cap) < 0)
                return; /* OOM */
        for (size_t i = 0; i < e->message_len; i++)
                if (((const char *) e->message)[i] == '\n')
                        expected++;
        if (len == 0 || buf[len - 1] != '\n')
                abort();
        for (size_t i = 0; i < len;) {
                const char *l = buf + i, *nl = memchr(l, '\n', len - i);

                if (!nl || (size_t) (nl - l) < CRILOG_TIME_LEN + 10)
                        abort();
                if (l[4] != '-' || l[10] != 'T' || l[19] != '.' || l[29] != 'Z')
                        abort();
                if (memcmp(l + CRILOG_TIME_LEN, " stdout ", 8) != 0 && memcmp(l + CRILOG_TIME_LEN, " stderr ", 8) != 0)
                        abort();
                if ((l[CRILOG_TIME_LEN + 8] != 'P' && l[CRILOG_TIME_LEN + 8] != 'F') || l[CRILOG_TIME_LEN + 9] != ' ')
                        abort();
                lines++;
                i = (size_t) (nl - buf) + 1;
        }
        if (lines != expected)
                abort();
        free(buf);
}

static void check_json(const PodJournalEntry *e) {
        char *buf = NULL;
        size_t len = 0, cap = 0;
        json_object *o;

        if (log_format_json(e, "app", &buf, &len, &cap) < 0)
                return;
        if (len == 0 || buf[len - 1] != '\n' || memchr(buf, '\n', len - 1))
                abort();
        {
                json_tokener *tok = json_tokener_new();

                if (!tok)
                        return;
                o = json_tokener_parse_ex(tok, buf, (int) len);
                if (!o || !json_object_is_type(o, json_type_object))
                        abort();
                json_object_put(o);
                json_tokener_free(tok);
        }
        free(buf);
}

/* peapod logs' text: one line, prefix first, and nothing a terminal acts
 * on but the final newline (no C0 but tab, no DEL, no C1 as UTF-8 or as a
 * lone byte, nothing that is not UTF-8). */
static void check_text(const PodJournalEntry *e) {
        char *buf = NULL;
        size_t len = 0, cap = 0;

        if (log_format_text(e, "app", 3, true, true, &buf, &len, &cap) < 0)
                return;
        if (len < CRILOG_TIME_LEN + 7 || memcmp(buf + CRILOG_TIME_LEN, " app | ", 7) != 0)
                abort();
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char) buf[i];

                if ((c < 0x20 && c != '\t' && !(c == '\n' && i == len - 1)) || c == 0x7f ||
                    (c == 0xc2 && i + 1 < len && (unsigned char) buf[i + 1] < 0xa0))
                        abort();
                if (c >= 0x80 && !(c >= 0xc2 && c <= 0xf4) && !(c >= 0x80 && c <= 0xbf))
                        abort();
        }
        free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const uint8_t *p = data, *end = data + size;
        PodJournalFields f = {};
        PodJournalNames names;
        PodJournalEntry e;
        uint64_t t;

        if (size < 8 || size > 256 * 1024)
                return 0;
        memcpy(&t, p, 8);
        p += 8;
        /* Times beyond year 9999 do not occur in journals (it refuses them). */
        f.realtime_usec = t % (UINT64_C(253402300799) * 1000000);
        f.pod_id = next_part(&p, end, &f.pod_id_len);
        f.app_id = next_part(&p, end, &f.app_id_len);
        f.app_name = next_part(&p, end, &f.app_name_len);
        f.unit = next_part(&p, end, &f.unit_len);
        f.priority = next_part(&p, end, &f.priority_len);
        f.line_break = next_part(&p, end, &f.line_break_len);
        f.message = p;
        f.message_len = (size_t) (end - p);

        if (pod_journal_entry_parse(&f, &names, &e) > 0) {
                if (!id_is_valid(e.app_id) || !id_is_valid(e.pod_id) || !app_name_is_valid(e.app_name))
                        abort();
                check_cri(&e);
                check_json(&e);
                check_text(&e);
        }

        /* The --since/--until parser gets the tail as a string too. */
        {
                char s[80];
                size_t n = f.message_len < sizeof(s) - 1 ? f.message_len : sizeof(s) - 1;
                uint64_t v;

                memcpy(s, f.message, n);
                s[n] = 0;
                (void) log_time_parse(s, UINT64_C(1795437296) * 1000000, &v);
        }
        return 0;
}
