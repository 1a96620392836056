/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <systemd/sd-id128.h>

#include "macro.h"
#include "name.h"
#include "string-util.h"

/* The pod name is the stage1's hostname too: one rule for both. */
bool pod_name_is_valid(const char *name) {
        return hostname_is_valid(name);
}

bool app_name_is_valid(const char *name) {
        size_t n;

        if (isempty(name))
                return false;
        n = strlen(name);
        if (n > APP_NAME_MAX)
                return false;
        if (!(islower(name[0]) || isdigit(name[0])) || name[n - 1] == '-')
                return false;
        for (const char *p = name; *p; p++)
                if (!isascii(*p) || !(islower(*p) || isdigit(*p) || *p == '-'))
                        return false;
        return true;
}

static bool is_hex_lower(const char *s, size_t min, size_t max) {
        size_t n;

        if (!s)
                return false;
        n = strlen(s);
        if (n < min || n > max)
                return false;
        for (; *s; s++)
                if (!isdigit(*s) && !(*s >= 'a' && *s <= 'f'))
                        return false;
        return true;
}

bool id_is_valid(const char *id) {
        return is_hex_lower(id, POD_ID_LEN, POD_ID_LEN);
}

bool id_prefix_is_valid(const char *s) {
        return is_hex_lower(s, POD_ID_PREFIX_MIN, POD_ID_LEN);
}

bool id_prefix_is_too_short(const char *s) {
        return is_hex_lower(s, 1, POD_ID_PREFIX_MIN - 1);
}

int id_generate(char ret[static POD_ID_LEN + 1]) {
        sd_id128_t id;
        int r;

        r = sd_id128_randomize(&id);
        if (r < 0)
                return r;
        sd_id128_to_string(id, ret);
        return 0;
}

int unit_name_escape_dashes(const char *s, char **ret) {
        size_t n = 0;
        char *r, *p;

        for (const char *i = s; *i; i++)
                n += *i == '-' ? 4 : 1;
        r = p = malloc(n + 1);
        if (!r)
                return -ENOMEM;
        for (const char *i = s; *i; i++) {
                if (*i == '-')
                        p = stpcpy(p, "\\x2d");
                else
                        *p++ = *i;
        }
        *p = 0;
        *ret = r;
        return 0;
}

static int unit_name_with(const char *prefix, const char *machine, const char *suffix, char **ret) {
        _cleanup_free_ char *e = NULL;
        int r;

        r = unit_name_escape_dashes(machine, &e);
        if (r < 0)
                return r;
        if (asprintf(ret, "%s%s%s", prefix, e, suffix) < 0)
                return -ENOMEM;
        return 0;
}

int pod_slice_name(const char *machine, char shard, char **ret) {
        char prefix[] = "machine-peapod?-";

        if (shard == 0)
                return unit_name_with("machine-", machine, ".slice", ret);
        if (!is_hex_lower((const char[]) { shard, 0 }, 1, 1))
                return -EINVAL;
        *strchr(prefix, '?') = shard;
        return unit_name_with(prefix, machine, ".slice", ret);
}

int pod_scope_name(const char *machine, char **ret) {
        return unit_name_with("machine-", machine, ".scope", ret);
}

int app_unit_name(const char *machine, const char *app, char **ret) {
        _cleanup_free_ char *suffix = NULL;

        if (asprintf(&suffix, "-%s.service", app) < 0)
                return -ENOMEM;
        return unit_name_with("peapod-", machine, suffix, ret);
}

int unit_name_parse(const char *unit, char **ret_machine, const char **ret_app) {
        const char *s, *end, *app = NULL;
        char *machine, *m;

        if ((s = startswith(unit, "peapod-"))) {
                /* The machine's own dashes are escaped: the first one ends it. */
                end = strchr(s, '-');
                if (!end || !endswith(end + 1, ".service"))
                        return -EINVAL;
                app = end + 1;
                if (app == endswith(app, ".service"))
                        return -EINVAL;
        } else if ((s = startswith(unit, "machine-"))) {
                end = endswith(s, ".scope");
                if (!end || memchr(s, '-', (size_t) (end - s)))
                        return -EINVAL;
        } else
                return -EINVAL;
        if (end == s)
                return -EINVAL;
        machine = m = malloc((size_t) (end - s) + 1);
        if (!machine)
                return -ENOMEM;
        for (const char *i = s; i < end;)
                if (strncmp(i, "\\x2d", 4) == 0) {
                        *m++ = '-';
                        i += 4;
                } else
                        *m++ = *i++;
        *m = 0;
        *ret_machine = machine;
        *ret_app = app;
        return 0;
}

int app_name_from_image(const char *image, char **ret) {
        const char *base, *end;
        char *r, *p;
        size_t n;

        if (isempty(image))
                return -EINVAL;
        base = strrchr(image, '/');
        base = base ? base + 1 : image;
        end = base + strcspn(base, ":@");
        n = (size_t) (end - base);
        if (n > APP_NAME_MAX)
                n = APP_NAME_MAX;
        r = p = malloc(n + 1);
        if (!r)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                char c = (char) tolower((unsigned char) base[i]);
                *p++ = (isascii(c) && (islower(c) || isdigit(c))) ? c : '-';
        }
        *p = 0;
        /* Trim what a DNS label may not start or end with. */
        while (r[0] == '-')
                memmove(r, r + 1, strlen(r));
        while ((n = strlen(r)) > 0 && r[n - 1] == '-')
                r[n - 1] = 0;
        if (!app_name_is_valid(r)) {
                free(r);
                return -EINVAL;
        }
        *ret = r;
        return 0;
}
