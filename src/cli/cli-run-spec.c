/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A pod spec (peapod-pod.json(5)) is 'peapod run's command line written as
 * JSON: each key is the long option of the same name. It is turned into
 * exactly those words and parsed by run_args_parse(), so every value is
 * checked by the code that checks the option, once, and a spec can say
 * nothing that the command line cannot. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fs-util.h"
#include "json-util.h"
#include "string-util.h"
#include "strv.h"

/* A spec is a few options per app: 1 MiB is far more than any needs. */
#define RUN_SPEC_SIZE_MAX (1024 * 1024)
#define RUN_SPEC_DEPTH_MAX 8
#define RUN_SPEC_APPS_MAX 64

typedef enum SpecValue {
        SPEC_STRING,      /* "v" -> --key=v */
        SPEC_NUMBER,      /* 5 or "5" -> --key=5 */
        SPEC_BOOL,        /* true -> --key=true */
        SPEC_REPEAT,      /* "a" or ["a", "b"] -> --key=a --key=b */
        SPEC_JOIN,        /* "a,b" or ["a", "b"] -> --key=a,b */
} SpecValue;

typedef struct SpecKey {
        const char *key;
        SpecValue value;
} SpecKey;

/* The pod options of 'peapod run' that describe the pod; -d, --rm and
 * --quiet are how one command runs it, so they stay on the command line. */
static const SpecKey pod_keys[] = {
        { "name", SPEC_STRING },         { "stage1", SPEC_STRING },    { "pull", SPEC_STRING },
        { "insecure-options", SPEC_JOIN }, { "net", SPEC_JOIN },       { "port", SPEC_REPEAT },
        { "dns", SPEC_REPEAT },          { "dns-search", SPEC_REPEAT }, { "hostname", SPEC_STRING },
        { "volume", SPEC_REPEAT },
};

/* The app options; "image", "exec", "args" and "set-env" are read apart. */
static const SpecKey app_keys[] = {
        { "app-name", SPEC_STRING },     { "working-dir", SPEC_STRING },      { "user", SPEC_STRING },
        { "group", SPEC_STRING },        { "supplementary-groups", SPEC_JOIN }, { "caps-retain", SPEC_JOIN },
        { "caps-remove", SPEC_JOIN },    { "no-new-privileges", SPEC_BOOL },  { "seccomp", SPEC_STRING },
        { "readonly-rootfs", SPEC_BOOL }, { "pid-namespace", SPEC_STRING },   { "restart", SPEC_STRING },
        { "cpu", SPEC_NUMBER },          { "cpu-shares", SPEC_NUMBER },       { "memory", SPEC_NUMBER },
        { "tasks-max", SPEC_NUMBER },    { "mount", SPEC_REPEAT },            { "ipc-namespace", SPEC_STRING },
        { "device", SPEC_REPEAT },       { "masked-path", SPEC_REPEAT },      { "readonly-path", SPEC_REPEAT },
};

static const char * const app_special_keys[] = { "image", "exec", "args", "set-env" };

static int spec_error(const char *path, const char *where, const char *fmt, ...) _printf_(3, 4);
static int spec_error(const char *path, const char *where, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (r < 0)
                return log_oom();
        return log_usage_error("Invalid pod spec %s: %s%s%s.", path, strempty(where), where ? ": " : "", msg);
}

static int push_option(char ***words, const char *key, const char *value) {
        char *w;

        if (asprintf(&w, "--%s=%s", key, value) < 0)
                return log_oom();
        return strv_consume(words, w) < 0 ? log_oom() : 0;
}

/* A string, or for a number key an integer, as text; NULL otherwise. */
static const char *scalar_text(json_object *v, bool number, char buf[static 32]) {
        if (json_object_is_type(v, json_type_string))
                return json_object_get_string(v);
        if (number && json_object_is_type(v, json_type_int) && json_object_get_int64(v) >= 0) {
                snprintf(buf, 32, "%" PRId64, json_object_get_int64(v));
                return buf;
        }
        return NULL;
}

/* A string or a list of strings, as a strv. */
static int string_list(const char *path, const char *where, const char *key, json_object *v, char ***ret) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));

        if (!l)
                return log_oom();
        if (json_object_is_type(v, json_type_string)) {
                if (strv_extend(&l, json_object_get_string(v)) < 0)
                        return log_oom();
        } else if (json_object_is_type(v, json_type_array)) {
                for (size_t i = 0; i < json_object_array_length(v); i++) {
                        json_object *s = json_object_array_get_idx(v, i);

                        if (!json_object_is_type(s, json_type_string))
                                return spec_error(path, where, "\"%s\" must be a list of strings", key);
                        if (strv_extend(&l, json_object_get_string(s)) < 0)
                                return log_oom();
                }
        } else
                return spec_error(path, where, "\"%s\" must be a string or a list of strings", key);
        *ret = TAKE_PTR(l);
        return 0;
}

static int push_key(const char *path, const char *where, const SpecKey *k, json_object *v, char ***words) {
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_free_ char *joined = NULL;
        const char *s;
        char buf[32];
        int r;

        switch (k->value) {
        case SPEC_STRING:
        case SPEC_NUMBER:
                s = scalar_text(v, k->value == SPEC_NUMBER, buf);
                if (!s)
                        return spec_error(path, where, "\"%s\" must be a %s", k->key,
                                          k->value == SPEC_NUMBER ? "number or a string" : "string");
                return push_option(words, k->key, s);
        case SPEC_BOOL:
                if (!json_object_is_type(v, json_type_boolean))
                        return spec_error(path, where, "\"%s\" must be true or false", k->key);
                return push_option(words, k->key, json_object_get_boolean(v) ? "true" : "false");
        case SPEC_REPEAT:
                r = string_list(path, where, k->key, v, &l);
                if (r < 0)
                        return r;
                FOREACH_STRV(i, l)
                        if ((r = push_option(words, k->key, i)) < 0)
                                return r;
                return 0;
        case SPEC_JOIN:
                r = string_list(path, where, k->key, v, &l);
                if (r < 0)
                        return r;
                joined = strv_join(l, ",");
                if (!joined)
                        return log_oom();
                return push_option(words, k->key, joined);
        }
        return -EINVAL;
}

/* An unknown key: say which it is, and the known one it is a typo of. */
static int unknown_key(const char *path, const char *where, const char *key, const SpecKey *keys, size_t n_keys,
                       const char * const *extra, size_t n_extra) {
        const char *names[64], *hint;
        size_t n = 0;

        for (size_t i = 0; i < n_keys && n < ELEMENTSOF(names); i++)
                names[n++] = keys[i].key;
        for (size_t i = 0; i < n_extra && n < ELEMENTSOF(names); i++)
                names[n++] = extra[i];
        hint = closest_word(key, names, n);
        if (hint)
                return spec_error(path, where, "unknown key \"%s\" (did you mean \"%s\"?)", key, hint);
        return spec_error(path, where, "unknown key \"%s\"", key);
}

static const SpecKey *find_key(const SpecKey *keys, size_t n, const char *key) {
        for (size_t i = 0; i < n; i++)
                if (streq(keys[i].key, key))
                        return &keys[i];
        return NULL;
}

/* "set-env": {"KEY": "VALUE"} or a list of "KEY=VALUE". */
static int push_set_env(const char *path, const char *where, json_object *val, char ***words) {
        int r;

        if (!json_object_is_type(val, json_type_object))
                return push_key(path, where, &(const SpecKey) { "set-env", SPEC_REPEAT }, val, words);
        /* {"KEY": "VALUE"}: the form every other spec uses. */
        json_object_object_foreach(val, name, value) {
                _cleanup_free_ char *kv = NULL;

                if (!json_object_is_type(value, json_type_string))
                        return spec_error(path, where, "\"set-env\": the value of \"%s\" must be a string", name);
                if (asprintf(&kv, "%s=%s", name, json_object_get_string(value)) < 0)
                        return log_oom();
                r = push_option(words, "set-env", kv);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* An app's "exec" and "args" as --exec= and the words after "--". */
static int push_command(const char *path, const char *where, char **exec, char **args, char ***words) {
        int r;

        /* "exec": ["/bin/httpd", "-f"] is the whole command, as --exec=
         * plus ARGS; "args" alone replaces the image's cmd. */
        if (exec && (r = push_option(words, "exec", exec[0])) < 0)
                return r;
        if (strv_length(exec) > 1 || strv_length(args) > 0) {
                if (strv_extend(words, "--") < 0)
                        return log_oom();
                for (size_t i = exec ? 1 : 0; exec && exec[i]; i++)
                        if (strv_extend(words, exec[i]) < 0)
                                return log_oom();
                FOREACH_STRV(a, args) {
                        /* On run's command line "---" starts the next app. */
                        if (streq(a, "---"))
                                return spec_error(path, where, "\"---\" cannot be an argument");
                        if (strv_extend(words, a) < 0)
                                return log_oom();
                }
                for (size_t i = 1; exec && exec[i]; i++)
                        if (streq(exec[i], "---"))
                                return spec_error(path, where, "\"---\" cannot be an argument");
        }
        return 0;
}

/* One app: IMAGE [--option=value]... [--exec=CMD] [-- ARGS...] */
static int push_app(const char *path, size_t index, json_object *app, char ***words) {
        _cleanup_strv_free_ char **exec = NULL, **args = NULL;
        char where[32];
        json_object *v;
        int r;

        snprintf(where, sizeof(where), "apps[%zu]", index);
        if (!json_object_is_type(app, json_type_object))
                return spec_error(path, where, "an app must be an object");
        if (!json_object_object_get_ex(app, "image", &v) || !json_object_is_type(v, json_type_string))
                return spec_error(path, where, "\"image\" (a string) is missing");
        /* The image word must not read as an option (run refuses it too,
         * but as "Unknown option"). */
        if (json_object_get_string(v)[0] == '-' || isempty(json_object_get_string(v)))
                return spec_error(path, where, "\"image\" is not an image name");
        if (strv_extend(words, json_object_get_string(v)) < 0)
                return log_oom();

        json_object_object_foreach(app, key, val) {
                const SpecKey *k = find_key(app_keys, ELEMENTSOF(app_keys), key);

                if (k) {
                        r = push_key(path, where, k, val, words);
                        if (r < 0)
                                return r;
                } else if (streq(key, "set-env")) {
                        r = push_set_env(path, where, val, words);
                        if (r < 0)
                                return r;
                } else if (streq(key, "exec")) {
                        r = string_list(path, where, key, val, &exec);
                        if (r < 0)
                                return r;
                        if (strv_length(exec) == 0)
                                return spec_error(path, where, "\"exec\" is empty");
                } else if (streq(key, "args")) {
                        if (!json_object_is_type(val, json_type_array))
                                return spec_error(path, where, "\"args\" must be a list of strings");
                        r = string_list(path, where, key, val, &args);
                        if (r < 0)
                                return r;
                } else if (!streq(key, "image"))
                        return unknown_key(path, where, key, app_keys, ELEMENTSOF(app_keys), app_special_keys,
                                           ELEMENTSOF(app_special_keys));
        }

        return push_command(path, where, exec, args, words);
}

int run_spec_parse(const char *text, size_t size, const char *path, char ***ret_pod, char ***ret_apps) {
        _cleanup_strv_free_ char **pod = calloc(1, sizeof(char *)), **apps = calloc(1, sizeof(char *));
        _cleanup_json_ json_object *root = NULL;
        char where[JSON_PARSE_ERROR_STRING_MAX];
        JsonParseError pe;
        json_object *v;
        int r;

        if (!pod || !apps)
                return log_oom();
        r = json_parse_untrusted(text, size, RUN_SPEC_SIZE_MAX, RUN_SPEC_DEPTH_MAX, &root, &pe);
        if (r == -E2BIG)
                return spec_error(path, NULL, "larger than %d bytes", RUN_SPEC_SIZE_MAX);
        if (r == -EBADMSG)
                return spec_error(path, NULL, "%s", json_parse_error_to_string(&pe, where, sizeof(where)));
        if (r < 0)
                return log_oom();
        if (!json_object_is_type(root, json_type_object))
                return spec_error(path, NULL, "not a JSON object");

        json_object_object_foreach(root, key, val) {
                const SpecKey *k = find_key(pod_keys, ELEMENTSOF(pod_keys), key);

                if (k) {
                        r = push_key(path, NULL, k, val, &pod);
                        if (r < 0)
                                return r;
                } else if (!streq(key, "apps"))
                        return unknown_key(path, NULL, key, pod_keys, ELEMENTSOF(pod_keys),
                                           (const char * const[]) { "apps" }, 1);
        }

        if (!json_object_object_get_ex(root, "apps", &v) || !json_object_is_type(v, json_type_array) ||
            json_object_array_length(v) == 0)
                return spec_error(path, NULL, "\"apps\" (a list of at least one app) is missing");
        if (json_object_array_length(v) > RUN_SPEC_APPS_MAX)
                return spec_error(path, NULL, "more than %d apps", RUN_SPEC_APPS_MAX);
        for (size_t i = 0; i < json_object_array_length(v); i++) {
                if (i > 0 && strv_extend(&apps, "---") < 0)
                        return log_oom();
                r = push_app(path, i, json_object_array_get_idx(v, i), &apps);
                if (r < 0)
                        return r;
        }
        *ret_pod = TAKE_PTR(pod);
        *ret_apps = TAKE_PTR(apps);
        return 0;
}

int run_spec_load(const char *path, char ***ret_pod, char ***ret_apps) {
        _cleanup_free_ char *text = NULL;
        size_t size;
        int r;

        r = read_file(path, RUN_SPEC_SIZE_MAX, &text, &size);
        if (r == -E2BIG || r == -EFBIG)
                return spec_error(path, NULL, "larger than %d bytes", RUN_SPEC_SIZE_MAX);
        if (r < 0)
                return log_error_errno(r, "Failed to read the pod spec %s: %m", path);
        return run_spec_parse(text, size, path, ret_pod, ret_apps);
}
