/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>

#include "fs-util.h"
#include "json-util.h"
#include "parse-util.h"
#include "storage-conf.h"
#include "string-util.h"

/* A flat object of numbers and strings: a little room for a wrong value
 * that nests, which the key's check then names. */
#define STORAGE_CONF_DEPTH_MAX 8

/* A percentage above this would refuse every write on most systems: a typo,
 * not a policy. */
#define MIN_FREE_PERCENT_MAX 90U

/* A size as a JSON number of bytes or a string "64M"; within (0, 2^62]
 * unless zero_ok. */
static int json_get_size(json_object *v, const char *key, bool zero_ok, uint64_t *ret, PeapodError *e) {
        uint64_t n;

        if (json_object_is_type(v, json_type_int)) {
                int64_t i = json_object_get_int64(v);

                if (i < 0 || (uint64_t) i > (UINT64_C(1) << 62))
                        return peapod_error_set(e, -EBADMSG, "storage.conf: \"%s\" is out of range", key);
                n = (uint64_t) i;
        } else if (json_object_is_type(v, json_type_string)) {
                if (parse_size(json_object_get_string(v), &n) < 0)
                        return peapod_error_set(e, -EBADMSG,
                                                "storage.conf: \"%s\" is not a size (bytes, or a number with K, M, G or T)", key);
        } else
                return peapod_error_set(e, -EBADMSG, "storage.conf: \"%s\" is not a size", key);
        if (n == 0 && !zero_ok)
                return peapod_error_set(e, -EBADMSG, "storage.conf: \"%s\" must not be 0 (there is no unlimited)", key);
        *ret = n;
        return 0;
}

static int parse_min_free(json_object *v, StorageLimits *l, PeapodError *e) {
        const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
        size_t n = s ? strlen(s) : 0;

        if (n >= 2 && n <= 3 && s[n - 1] == '%') {
                unsigned p = 0;

                for (size_t i = 0; i + 1 < n; i++) {
                        if (!isdigit((unsigned char) s[i]))
                                return peapod_error_set(e, -EBADMSG, "storage.conf: \"%s\" is not a percentage",
                                                        STORAGE_KEY_MIN_FREE_SPACE);
                        p = p * 10 + (unsigned) (s[i] - '0');
                }
                if (p > MIN_FREE_PERCENT_MAX)
                        return peapod_error_set(e, -EBADMSG, "storage.conf: \"%s\" is over %u%%",
                                                STORAGE_KEY_MIN_FREE_SPACE, MIN_FREE_PERCENT_MAX);
                l->min_free_percent = p;
                l->min_free_bytes = 0;
                return 0;
        }
        l->min_free_percent = 0;
        return json_get_size(v, STORAGE_KEY_MIN_FREE_SPACE, true, &l->min_free_bytes, e);
}

int storage_conf_parse(const char *text, StorageLimits *ret, PeapodError *e) {
        _cleanup_json_ json_object *root = NULL;
        StorageLimits l = STORAGE_LIMITS_DEFAULT;
        char where[JSON_PARSE_ERROR_STRING_MAX];
        JsonParseError pe;
        int r;

        if (!text)
                return peapod_error_set(e, -EBADMSG, "storage.conf: not a JSON object");
        r = json_parse_untrusted(text, strlen(text), STORAGE_CONF_MAX, STORAGE_CONF_DEPTH_MAX, &root, &pe);
        if (r == -E2BIG)
                return peapod_error_set(e, -EBADMSG, "storage.conf: larger than %u bytes", STORAGE_CONF_MAX);
        if (r == -EBADMSG)
                return peapod_error_set(e, r, "storage.conf: not a JSON object (%s)",
                                        json_parse_error_to_string(&pe, where, sizeof(where)));
        if (r < 0)
                return r;
        if (!json_object_is_type(root, json_type_object))
                return peapod_error_set(e, -EBADMSG, "storage.conf: not a JSON object");
        json_object_object_foreach(root, key, v) {
                if (streq(key, STORAGE_KEY_MAX_LAYER_SIZE))
                        r = json_get_size(v, key, false, &l.max_layer_size, e);
                else if (streq(key, STORAGE_KEY_MAX_IMAGE_SIZE))
                        r = json_get_size(v, key, false, &l.max_image_size, e);
                else if (streq(key, STORAGE_KEY_MAX_LAYER_INODES)) {
                        int64_t i = json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : 0;

                        /* A count, not a size: no suffixes. */
                        r = i > 0 && i <= INT64_C(1) << 32 ? 0 :
                                peapod_error_set(e, -EBADMSG, "storage.conf: \"%s\" is not a number from 1 to 2^32", key);
                        l.max_layer_inodes = (uint64_t) i;
                } else if (streq(key, STORAGE_KEY_MIN_FREE_SPACE))
                        r = parse_min_free(v, &l, e);
                else {
                        char k[64];

                        /* The key comes from the file: cut, and no control
                         * characters into a log line. */
                        snprintf(k, sizeof(k), "%s", key);
                        for (char *p = k; *p; p++)
                                if (!isprint((unsigned char) *p))
                                        *p = '?';
                        r = peapod_error_set(e, -EBADMSG, "storage.conf: unknown key \"%s\"", k);
                }
                if (r < 0)
                        return r;
        }
        *ret = l;
        return 0;
}

int storage_conf_load(const char *path, StorageLimits *ret, PeapodError *e) {
        _cleanup_free_ char *text = NULL;
        int r;

        path = path ?: PEAPOD_CONF_DIR "/storage.conf";
        r = read_file(path, STORAGE_CONF_MAX, &text, NULL);
        if (r == -ENOENT) {
                *ret = STORAGE_LIMITS_DEFAULT;
                return 0;
        }
        if (r < 0)
                return peapod_error_set(e, r, "Failed to read %s: %s", path, strerror(-r));
        return storage_conf_parse(text, ret, e);
}

int storage_check_free_space(int fd, uint64_t min_bytes, unsigned min_percent, uint64_t need, uint64_t *ret_reserve) {
        struct statvfs sv;
        uint64_t avail, reserve;

        if (min_bytes == 0 && min_percent == 0)
                return 0;
        if (fstatvfs(fd, &sv) < 0)
                return -errno;
        /* f_bavail: what an unprivileged writer gets. We are root and could
         * use the reserved blocks too, but those are for the system to
         * keep working when the disk is full, not for images. */
        avail = (uint64_t) sv.f_bavail * sv.f_frsize;
        reserve = (uint64_t) sv.f_blocks * sv.f_frsize / 100 * min_percent;
        if (reserve < min_bytes)
                reserve = min_bytes;
        if (avail >= reserve && need <= avail - reserve)
                return 0;
        if (ret_reserve)
                *ret_reserve = reserve;
        return -ENOSPC;
}

const char *storage_format_size(uint64_t n, char buf[static 32]) {
        static const char * const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
        unsigned u = 0;
        uint64_t whole = n;

        while (whole >= 1024 && u + 1 < ELEMENTSOF(units)) {
                whole /= 1024;
                u++;
        }
        if (u == 0 || n % (UINT64_C(1) << (10 * u)) == 0)
                snprintf(buf, 32, "%" PRIu64 " %s", whole, units[u]);
        else
                snprintf(buf, 32, "%.1f %s", (double) n / (double) (UINT64_C(1) << (10 * u)), units[u]);
        return buf;
}
