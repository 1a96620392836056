/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "app-device.h"
#include "bus-util.h"
#include "fs-util.h"
#include "json-util.h"
#include "string-util.h"
#include "strv.h"

int app_device_from_string(const char *s, AppDevice *ret, PeapodError *err) {
        _cleanup_free_ char *host = NULL, *container = NULL;
        const char *c1, *c2, *perms = "rwm", *reason;

        /* None of the parts may hold ':' (app_device_check()), so the split
         * is unambiguous. */
        c1 = strchr(s, ':');
        c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        host = c1 ? strndup(s, (size_t) (c1 - s)) : strdup(s);
        container = !c1 ? strdup(host ?: "") : c2 ? strndup(c1 + 1, (size_t) (c2 - c1 - 1)) : strdup(c1 + 1);
        if (!host || !container)
                return -ENOMEM;
        if (c2)
                perms = c2 + 1;
        if (app_device_check(host, container, perms, &reason) < 0)
                return peapod_error_set(err, -EINVAL, "%s", reason);
        *ret = (AppDevice) { .host = TAKE_PTR(host), .container = TAKE_PTR(container), .permissions = strdup(perms) };
        if (!ret->permissions) {
                app_device_done(ret);
                return -ENOMEM;
        }
        return 0;
}

/* The node's type and number, following symlinks (a host path such as
 * /dev/disk/by-id/... is a symlink by design). Anything but a character
 * or block device is refused: a directory or a file bound into /dev
 * without nodev would be a volume that escapes every volume rule. */
static int device_stat(const char *host, struct stat *ret) {
        if (stat(host, ret) < 0)
                return -errno;
        if (!S_ISCHR(ret->st_mode) && !S_ISBLK(ret->st_mode))
                return -ENODEV;
        return 0;
}

int app_devices_copy(const AppDevice *in, size_t n, AppDevice **ret, size_t *ret_n, PeapodError *err) {
        AppDevice *l;
        size_t k = 0;
        int r = 0;

        if (n > APP_DEVICES_MAX)
                return peapod_error_set(err, -E2BIG, "Too many devices (at most %d)", APP_DEVICES_MAX);
        l = calloc(n ?: 1, sizeof(AppDevice));
        if (!l)
                return -ENOMEM;
        for (; k < n && r >= 0; k++) {
                const char *reason;
                struct stat st;

                if (app_device_check(in[k].host, in[k].container, in[k].permissions, &reason) < 0)
                        r = peapod_error_set(err, -EINVAL, "Invalid device '%s:%s:%s': %s", strna(in[k].host),
                                             strna(in[k].container), strna(in[k].permissions), reason);
                else if ((r = device_stat(in[k].host, &st)) < 0)
                        /* -EINVAL whatever stat() said: the request is wrong. */
                        r = peapod_error_set(err, -EINVAL, "Invalid device '%s': %s", in[k].host,
                                             r == -ENODEV ? "not a character or block device" : strerror(-r));
                /* Each node is a file the helper makes: none may be
                 * another's directory. */
                for (size_t j = 0; j < k && r >= 0; j++) {
                        const char *a = l[j].container, *b = in[k].container, *rest;

                        if (streq(a, b))
                                r = peapod_error_set(err, -EINVAL, "Two devices at %s", b);
                        else if (((rest = startswith(b, a)) && *rest == '/') || ((rest = startswith(a, b)) && *rest == '/'))
                                r = peapod_error_set(err, -EINVAL, "Device %s and %s: one below the other", a, b);
                }
                if (r < 0)
                        break;
                l[k].host = strdup(in[k].host);
                l[k].container = strdup(in[k].container);
                l[k].permissions = strdup(in[k].permissions);
                if (!l[k].host || !l[k].container || !l[k].permissions)
                        r = -ENOMEM;
        }
        if (r < 0) {
                app_devices_free(l, n);
                return r;
        }
        *ret = l;
        *ret_n = n;
        return 0;
}

json_object *app_devices_to_json(const AppDevice *d, size_t n) {
        json_object *a = json_object_new_array();

        for (size_t i = 0; a && i < n; i++) {
                json_object *o = json_object_new_object();

                json_object_array_add(a, o);
                json_object_object_add(o, "host", json_object_new_string(d[i].host));
                json_object_object_add(o, "container", json_object_new_string(d[i].container));
                json_object_object_add(o, "permissions", json_object_new_string(d[i].permissions));
        }
        return a;
}

int app_devices_from_json(json_object *o, AppDevice **ret, size_t *ret_n) {
        json_object *a;
        AppDevice *l;
        size_t n;
        int r = 0;

        if (!json_object_object_get_ex(o, "devices", &a)) {
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        if (!json_object_is_type(a, json_type_array))
                return -EBADMSG;
        n = json_object_array_length(a);
        if (n > APP_DEVICES_MAX)
                return -EBADMSG;
        l = calloc(n ?: 1, sizeof(AppDevice));
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < n && r >= 0; i++) {
                json_object *e = json_object_array_get_idx(a, i);
                const char *host, *container, *perms;

                if (!json_object_is_type(e, json_type_object) || json_get_string(e, "host", &host) < 0 ||
                    json_get_string(e, "container", &container) < 0 || json_get_string(e, "permissions", &perms) < 0 ||
                    app_device_check(host, container, perms, NULL) < 0) {
                        r = -EBADMSG;
                        break;
                }
                l[i].host = strdup(host);
                l[i].container = strdup(container);
                l[i].permissions = strdup(perms);
                if (!l[i].host || !l[i].container || !l[i].permissions)
                        r = -ENOMEM;
        }
        if (r < 0) {
                app_devices_free(l, n);
                return r;
        }
        *ret = l;
        *ret_n = n;
        return 0;
}

int app_devices_argv(const AppDevice *d, size_t n, char ***argv) {
        for (size_t i = 0; i < n; i++) {
                char *arg;
                int r;

                if (asprintf(&arg, "--device=%s:%s", d[i].host, d[i].container) < 0)
                        return -ENOMEM;
                r = strv_consume(argv, arg);
                if (r < 0)
                        return r;
        }
        return 0;
}

int app_devices_append_allow(sd_bus_message *m, const AppDevice *d, size_t n) {
        int r;

        if (n == 0)
                return 0;
        r = bus_open_array_property(m, "DeviceAllow", "(ss)");
        for (size_t i = 0; i < n && r >= 0; i++) {
                char node[64];
                struct stat st;

                /* By number, not by path: what the cgroup admits is the
                 * node stat() saw now, and a path swapped on the host
                 * later changes nothing (the helper binds whatever node
                 * it finds, which the cgroup then refuses unless it is
                 * this one). */
                r = device_stat(d[i].host, &st);
                /* -ENODEV whatever stat() said: -ENOENT would read as a
                 * missing image to a client. */
                if (r < 0) {
                        r = -ENODEV;
                        break;
                }
                snprintf(node, sizeof(node), "/dev/%s/%u:%u", S_ISCHR(st.st_mode) ? "char" : "block",
                         major(st.st_rdev), minor(st.st_rdev));
                r = sd_bus_message_append(m, "(ss)", node, d[i].permissions);
        }
        if (r >= 0)
                r = bus_close_array_property(m);
        return r;
}
