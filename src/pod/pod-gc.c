/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "fs-util.h"
#include "name.h"
#include "pod-gc.h"
#include "string-util.h"
#include "strv.h"

bool pod_gc_is_due(const Pod *p, uint64_t now_usec, uint64_t grace_usec) {
        if (p->state != POD_EXITED)
                return false;
        /* An exit time in the future (a clock set back) is not "long ago". */
        if (p->exited_usec > now_usec)
                return grace_usec == 0;
        return now_usec - p->exited_usec >= grace_usec;
}

int timespan_parse(const char *s, uint64_t *ret_usec) {
        static const struct {
                const char *suffix;
                uint64_t usec;
        } units[] = {
                /* Longest first, so that "ms" is not read as "m" + "s". */
                { "usec", 1 }, { "msec", 1000 }, { "sec", 1000000 }, { "min", 60000000 },
                { "us", 1 }, { "ms", 1000 }, { "s", 1000000 }, { "m", 60000000 },
                { "h", 3600000000ULL }, { "d", 86400000000ULL },
        };
        const uint64_t max = 100ULL * 365 * 86400000000ULL;
        uint64_t total = 0;

        if (!s || !*s)
                return -EINVAL;
        while (*s) {
                unsigned long long v;
                uint64_t unit = 0;
                char *end;

                if (*s < '0' || *s > '9')
                        return -EINVAL;
                errno = 0;
                v = strtoull(s, &end, 10);
                if (errno != 0 || v > max)
                        return -EINVAL;
                s = end;
                if (!*s && total == 0) {
                        unit = 1000000;  /* a bare number: seconds */
                } else {
                        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
                                size_t n = strlen(units[i].suffix);

                                if (strncmp(s, units[i].suffix, n) == 0 && !(s[n] >= 'a' && s[n] <= 'z')) {
                                        unit = units[i].usec;
                                        s += n;
                                        break;
                                }
                        }
                        if (unit == 0)
                                return -EINVAL;
                }
                if (v > (max - total) / unit)
                        return -EINVAL;
                total += v * unit;
        }
        *ret_usec = total;
        return 0;
}

/* /proc/self/mountinfo escapes blanks and backslashes as \ooo. */
static void unescape_octal(char *s) {
        char *w = s;

        for (char *r = s; *r;) {
                if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' && r[3] >= '0' && r[3] <= '7') {
                        *w++ = (char) ((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
                        r += 4;
                } else
                        *w++ = *r++;
        }
        *w = 0;
}

int umount_below(const char *path) {
        _cleanup_strv_free_ char **targets = NULL;
        size_t n = strlen(path), k;
        char line[8192];
        FILE *f;
        int r = 0;

        f = fopen("/proc/self/mountinfo", "re");
        if (!f)
                return -errno;
        while (fgets(line, sizeof(line), f)) {
                char target[4096];

                /* "ID PARENT MAJ:MIN ROOT TARGET ..." */
                if (sscanf(line, "%*s %*s %*s %*s %4095s", target) != 1)
                        continue;
                unescape_octal(target);
                if (strneq(target, path, n) && (target[n] == 0 || target[n] == '/') && strv_extend(&targets, target) < 0) {
                        fclose(f);
                        return -ENOMEM;
                }
        }
        fclose(f);
        /* Private first, the whole tree: an rshared pin is a peer of its
         * source's mount, and an unmount below it would propagate to the
         * host's own mounts below the source (pod-runtime.c, umount_all()). */
        FOREACH_STRV(t, targets)
                (void) mount(NULL, t, NULL, MS_REC | MS_PRIVATE, NULL);
        /* Later lines are mounted later, on top or below: undo backwards. */
        for (k = strv_length(targets); k > 0; k--)
                if (umount2(targets[k - 1], MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT && r == 0)
                        r = -errno;
        return r;
}

int pod_removing_path(const char *state_dir, const char *id, char **ret) {
        return asprintf(ret, "%s/pods/" POD_REMOVING_PREFIX "%s", state_dir, id) < 0 ? -ENOMEM : 0;
}

int pods_remove_leftovers(const char *state_dir, const char *volatile_dir) {
        _cleanup_free_ char *dir = NULL;
        struct dirent *de;
        int removed = 0;
        DIR *d;

        if (asprintf(&dir, "%s/pods", state_dir) < 0)
                return -ENOMEM;
        d = opendir(dir);
        if (!d)
                return errno == ENOENT ? 0 : -errno;
        while ((de = readdir(d))) {
                _cleanup_free_ char *path = NULL, *json = NULL;
                const char *id = startswith(de->d_name, POD_REMOVING_PREFIX);

                if (!id) {
                        if (!id_is_valid(de->d_name))
                                continue;
                        if (asprintf(&json, "%s/%s/pod.json", dir, de->d_name) < 0)
                                break;
                        if (access(json, F_OK) >= 0 || errno != ENOENT)
                                continue;
                        /* Its durable copy still queued when peapodd ended:
                         * the current one says it exists. */
                        json = mfree(json);
                        if (volatile_dir && asprintf(&json, "%s/pods/%s/pod.json", volatile_dir, de->d_name) < 0)
                                break;
                        if (json && (access(json, F_OK) >= 0 || errno != ENOENT))
                                continue;
                } else if (!id_is_valid(id))
                        continue;
                if (asprintf(&path, "%s/%s", dir, de->d_name) < 0)
                        break;
                (void) umount_below(path);
                if (rm_rf(path) >= 0)
                        removed++;
        }
        closedir(d);
        return removed;
}
