/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <stdio.h>
#include <sys/stat.h>

#include "fs-util.h"
#include "image.h"
#include "json-util.h"
#include "strv.h"

#define IMAGE_CONFIG_MAX (1024 * 1024)

Image *image_free(Image *i) {
        if (!i)
                return NULL;
        free(i->name);
        free(i->rootfs);
        strv_free(i->entrypoint);
        strv_free(i->cmd);
        strv_free(i->env);
        free(i->workdir);
        free(i);
        return NULL;
}

int image_reference_is_valid(const char *ref) {
        const char *colon, *p;

        if (isempty(ref) || strlen(ref) > 255)
                return false;
        colon = strrchr(ref, ':');
        if (colon && strchr(colon, '/'))
                colon = NULL;
        for (p = ref; *p && p != colon; p++)
                if (!isascii(*p) || !(islower(*p) || isdigit(*p) || strchr("._/-", *p)))
                        return false;
        if (ref[0] == '/' || ref[0] == '.' || strstr(ref, "..") || strstr(ref, "//") || p == ref || p[-1] == '/')
                return false;
        if (colon) {
                if (!colon[1] || strlen(colon + 1) > 128)
                        return false;
                for (p = colon + 1; *p; p++)
                        if (!isascii(*p) || !(isalnum(*p) || strchr("._-", *p)))
                                return false;
        }
        return true;
}

/* The on-disk form of a directory image: DIR/<name>/<tag>/{rootfs/,config.json}
 * with config.json an OCI image config ({"config": {"Entrypoint": ..., "Cmd":
 * ..., "Env": ..., "WorkingDir": ...}}). */
static int image_load(const char *dir, const char *name, const char *tag, Image **ret) {
        _cleanup_(image_freep) Image *i = NULL;
        _cleanup_free_ char *base = NULL, *cfg_path = NULL, *text = NULL;
        _cleanup_json_ json_object *root = NULL;
        json_object *config;
        struct stat st;
        const char *wd;
        int r;

        if (asprintf(&base, "%s/%s/%s", dir, name, tag) < 0)
                return -ENOMEM;
        i = calloc(1, sizeof(*i));
        if (!i)
                return -ENOMEM;
        if (asprintf(&i->rootfs, "%s/rootfs", base) < 0 || asprintf(&cfg_path, "%s/config.json", base) < 0 ||
            asprintf(&i->name, "%s:%s", name, tag) < 0)
                return -ENOMEM;
        if (stat(i->rootfs, &st) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode))
                return -ENOTDIR;

        r = read_file(cfg_path, IMAGE_CONFIG_MAX, &text, NULL);
        if (r < 0)
                return r;
        root = json_tokener_parse(text);
        if (!root || !json_object_is_type(root, json_type_object))
                return -EBADMSG;
        if (json_object_object_get_ex(root, "config", &config) && json_object_is_type(config, json_type_object)) {
                r = json_get_strv(config, "Entrypoint", &i->entrypoint);
                if (r < 0)
                        return r;
                r = json_get_strv(config, "Cmd", &i->cmd);
                if (r < 0)
                        return r;
                r = json_get_strv(config, "Env", &i->env);
                if (r < 0)
                        return r;
                r = json_get_string_opt(config, "WorkingDir", &wd);
                if (r < 0)
                        return r;
                if (!isempty(wd)) {
                        i->workdir = strdup(wd);
                        if (!i->workdir)
                                return -ENOMEM;
                }
        }
        *ret = TAKE_PTR(i);
        return 0;
}

int image_find(const char *ref, char * const *dirs, Image **ret) {
        static char * const default_dirs[] = { PEAPOD_STATE_DIR "/images", PEAPOD_IMAGES_BUILTIN_DIR, NULL };
        _cleanup_free_ char *name = NULL;
        const char *tag = "latest";
        char *colon;

        if (!image_reference_is_valid(ref))
                return -EINVAL;
        name = strdup(ref);
        if (!name)
                return -ENOMEM;
        colon = strrchr(name, ':');
        if (colon && !strchr(colon, '/')) {
                *colon = 0;
                tag = colon + 1;
        }
        for (char * const *d = dirs ?: default_dirs; *d; d++) {
                int r = image_load(*d, name, tag, ret);
                if (r != -ENOENT && r != -ENOTDIR)
                        return r;
        }
        return -ENOENT;
}

int image_resolve_command(const Image *i, char * const *exec, char * const *args, char ***ret) {
        _cleanup_strv_free_ char **c = NULL;
        int r;

        if (exec) {
                c = strv_copy(exec);
                if (!c)
                        return -ENOMEM;
        } else {
                c = strv_copy(i->entrypoint);
                if (!c)
                        return -ENOMEM;
                FOREACH_STRV(s, args ?: i->cmd) {
                        r = strv_extend(&c, s);
                        if (r < 0)
                                return r;
                }
        }
        if (strv_length(c) == 0 || isempty(c[0]))
                return -EINVAL;
        *ret = TAKE_PTR(c);
        return 0;
}
