/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "app-security.h"
#include "cli.h"
#include "cni.h"
#include "fs-util.h"
#include "name.h"
#include "parse-util.h"
#include "pod-network.h"
#include "pod.h"
#include "string-util.h"
#include "strv.h"

bool cli_usage_failed = false;

static const char * const pull_policy_table[_PULL_POLICY_MAX] = {
        [PULL_MISSING] = "missing",
        [PULL_ALWAYS] = "always",
        [PULL_NEVER] = "never",
};

const char *pull_policy_to_string(PullPolicy p) {
        return p >= 0 && p < _PULL_POLICY_MAX ? pull_policy_table[p] : NULL;
}

PullPolicy pull_policy_from_string(const char *s) {
        if (s)
                for (PullPolicy p = 0; p < _PULL_POLICY_MAX; p++)
                        if (streq(s, pull_policy_table[p]))
                                return p;
        return _PULL_POLICY_INVALID;
}

void run_args_done(RunArgs *a) {
        for (size_t i = 0; i < a->n_apps; i++)
                app_spec_done(&a->apps[i]);
        free(a->apps);
        for (size_t i = 0; i < a->n_volumes; i++)
                volume_done(&a->volumes[i]);
        free(a->volumes);
        strv_free(a->env_all);
        for (size_t i = 0; i < a->n_mounts_all; i++)
                app_mount_done(&a->mounts_all[i]);
        free(a->mounts_all);
        free(a->name);
        free(a->stage1);
        strv_free(a->networks);
        strv_free(a->ports);
        strv_free(a->dns);
        strv_free(a->dns_search);
        free(a->hostname);
        *a = (RunArgs) {};
}

/* "--opt=VALUE" or "--opt VALUE": returns 1 and the value when argv[*i] is
 * this option (advancing *i past a separate value), 0 when it is not,
 * -EINVAL when the value is missing. */
static int option_value(int argc, char *argv[], int *i, const char *option, const char **ret) {
        const char *v = startswith(argv[*i], option);

        if (!v)
                return 0;
        if (*v == '=') {
                *ret = v + 1;
                return 1;
        }
        if (*v != 0)
                return 0;
        if (*i + 1 >= argc)
                return log_usage_error("Option %s needs a value.", option);
        *ret = argv[++*i];
        return 1;
}

static int set_string(char **s, const char *v) {
        char *c = strdup(v);

        if (!c)
                return log_oom();
        free(*s);
        *s = c;
        return 0;
}

/* The parts of an app that are only known once all of its words are read. */
typedef struct PendingApp {
        const char *exec;     /* non-NULL when --exec was given, maybe "" */
        char **words;         /* after "--" */
} PendingApp;

static void pending_app_done(PendingApp *p) {
        strv_free(p->words);
}

static int finish_app(AppSpec *a, PendingApp *p) {
        _cleanup_strv_free_ char **words = TAKE_PTR(p->words);
        int r;

        if (p->exec) {
                if (isempty(p->exec))
                        return log_usage_error("Invalid --exec= for app of image %s: empty command.", a->image);
                a->exec = calloc(1, sizeof(char *));
                if (!a->exec)
                        return log_oom();
                r = strv_extend(&a->exec, p->exec);
                if (r < 0)
                        return log_oom();
                FOREACH_STRV(w, words) {
                        r = strv_extend(&a->exec, w);
                        if (r < 0)
                                return log_oom();
                }
        } else if (strv_length(words) > 0)
                /* "--" followed by nothing keeps the image's cmd: an empty
                 * command is never what was meant. */
                a->args = TAKE_PTR(words);
        *p = (PendingApp) {};
        return 0;
}

static int add_app(RunArgs *a, const char *image) {
        AppSpec *n;

        if (isempty(image))
                return log_usage_error("Empty image name.");
        n = reallocarray(a->apps, a->n_apps + 1, sizeof(AppSpec));
        if (!n)
                return log_oom();
        a->apps = n;
        a->apps[a->n_apps] = (AppSpec) {};
        a->apps[a->n_apps].image = strdup(image);
        if (!a->apps[a->n_apps].image)
                return log_oom();
        a->n_apps++;
        return 0;
}

enum {
        EXPECT_POD_OPTION_OR_IMAGE,
        EXPECT_APP_OPTION,
        EXPECT_APP_WORD,
        EXPECT_IMAGE,
};

static bool is_pod_option(const char *s) {
        static const char * const with_value[] = { "--name", "--pull", "--insecure-options", "--stage1", "--net", "--port",
                                                    "--dns", "--dns-search", "--hostname", "--volume", "--spec" };

        if (streq(s, "-q") || streq(s, "--quiet") || streq(s, "-d") || streq(s, "--detach") || streq(s, "--rm") ||
            streq(s, "--replace") ||
            streq(s, "-i") || streq(s, "--interactive") || streq(s, "-t") || streq(s, "--tty") || streq(s, "-it") ||
            streq(s, "-ti"))
                return true;
        if (streq(s, "-p") || startswith(s, "-p="))
                return true;
        for (size_t i = 0; i < ELEMENTSOF(with_value); i++) {
                const char *v = startswith(s, with_value[i]);
                if (v && (*v == 0 || *v == '='))
                        return true;
        }
        return false;
}

int insecure_options_parse(const char *v, bool *ret_image) {
        bool image = false;

        for (const char *p = v; *p;) {
                size_t n = strcspn(p, ",");

                if (n == 5 && strneq(p, "image", 5))
                        image = true;
                else if (!(n == 4 && strneq(p, "none", 4)))
                        return log_usage_error("Invalid --insecure-options='%s': 'image' (accept images the trust policy "
                                               "would refuse) or 'none'.", v);
                p += n;
                if (*p == ',')
                        p++;
        }
        *ret_image = image;
        return 0;
}

/* --net=default|host|none|NAME[,NAME...]: checked here for shape only;
 * peapodd knows which networks exist. */
static int add_networks(RunArgs *a, const char *v) {
        const char *p = v;

        if (isempty(v))
                return log_usage_error("Invalid --net='': give default, host, none or network names.");
        for (;;) {
                size_t n = strcspn(p, ",");
                _cleanup_free_ char *w = strndup(p, n);

                if (!w)
                        return log_oom();
                if (n == 0)
                        return log_usage_error("Invalid --net='%s': empty network name.", v);
                if (!cni_network_name_is_valid(w))
                        return log_usage_error("Invalid --net='%s': '%s' is not a network name.", v, w);
                if (strv_contains(a->networks, w))
                        return log_usage_error("Invalid --net='%s': '%s' is given twice.", v, w);
                if (strv_extend(&a->networks, w) < 0)
                        return log_oom();
                if (p[n] == 0)
                        break;
                p += n + 1;
        }
        if (strv_length(a->networks) > 1 && (strv_contains(a->networks, "host") || strv_contains(a->networks, "none")))
                return log_usage_error("Invalid --net: 'host' and 'none' cannot be combined with other networks.");
        return 0;
}

int run_args_network_option(RunArgs *a, const char *option, const char *v) {
        if (streq(option, "--net"))
                return add_networks(a, v);
        if (streq(option, "--port")) {
                PodPort p = {};

                if (pod_port_parse(v, &p) < 0)
                        return log_usage_error("Invalid --port='%s': expected [IP:]HOSTPORT:PODPORT[/tcp|udp], ports 1-65535.", v);
                pod_port_done(&p);
                return strv_extend(&a->ports, v) < 0 ? log_oom() : 0;
        }
        if (streq(option, "--dns")) {
                unsigned char buf[16];

                if (inet_pton(AF_INET, v, buf) != 1 && inet_pton(AF_INET6, v, buf) != 1)
                        return log_usage_error("Invalid --dns='%s': not an IP address.", v);
                return strv_extend(&a->dns, v) < 0 ? log_oom() : 0;
        }
        if (streq(option, "--dns-search")) {
                if (isempty(v))
                        return log_usage_error("Invalid --dns-search='': empty domain.");
                return strv_extend(&a->dns_search, v) < 0 ? log_oom() : 0;
        }
        if (streq(option, "--hostname")) {
                if (!pod_name_is_valid(v))
                        return log_usage_error("Invalid --hostname='%s': use 1-64 letters, digits, '.' and '-', "
                                               "not starting with '-' or '.'.", v);
                return set_string(&a->hostname, v) < 0 ? -ENOMEM : 0;
        }
        return -EINVAL;
}

/* Pod options that take a value. 1 when s was one, 0 when not. */
static int parse_pod_network_option(int argc, char *argv[], int *i, RunArgs *a) {
        static const char *const names[] = { "--net", "--port", "--dns", "--dns-search", "--hostname" };
        const char *v;
        int r;

        /* podman's short name. */
        r = option_value(argc, argv, i, "-p", &v);
        if (r != 0)
                return r < 0 ? r : run_args_network_option(a, "--port", v) < 0 ? -EINVAL : 1;
        for (size_t k = 0; k < ELEMENTSOF(names); k++) {
                r = option_value(argc, argv, i, names[k], &v);
                if (r < 0)
                        return r;
                if (r > 0)
                        return run_args_network_option(a, names[k], v) < 0 ? -EINVAL : 1;
        }
        return 0;
}

static int parse_bool_arg(const char *option, const char *v, bool *ret) {
        if (streq(v, "true") || streq(v, "yes") || streq(v, "1"))
                *ret = true;
        else if (streq(v, "false") || streq(v, "no") || streq(v, "0"))
                *ret = false;
        else
                return log_usage_error("Invalid %s='%s': true or false.", option, v);
        return 0;
}

/* "a,b,c" -> strv; empty items are refused, "" is the empty list. */
static int split_list(const char *option, const char *v, char ***ret) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        const char *p = v;

        if (!l)
                return log_oom();
        while (*p) {
                size_t n = strcspn(p, ",");

                if (n == 0 || (p[n] == ',' && !p[n + 1]))
                        return log_usage_error("Invalid %s='%s': an empty item.", option, v);
                if (strv_consume(&l, strndup(p, n)) < 0)
                        return log_oom();
                p += n + (p[n] == ',');
        }
        strv_free(*ret);
        *ret = TAKE_PTR(l);
        return 0;
}

/* An app's identity and privileges: --user, --group, --seccomp,
 * --pid-namespace, --restart, --ipc-namespace, --supplementary-groups, --caps-*,
 * --no-new-privileges, --readonly-rootfs, --privileged. */
static int parse_app_privilege_option(int argc, char *argv[], int *i, AppSpec *app) {
        static const char *const string_opts[] = { "--user", "--group", "--seccomp", "--pid-namespace", "--restart",
                                                   "--ipc-namespace" };
        PeapodError err = {};
        const char *v;
        bool b;
        int r;

        for (size_t k = 0; k < ELEMENTSOF(string_opts); k++) {
                char **field = k == 0 ? &app->user : k == 1 ? &app->group : k == 2 ? &app->seccomp :
                               k == 3 ? &app->pid_namespace : k == 4 ? &app->restart : &app->ipc_namespace;

                r = option_value(argc, argv, i, string_opts[k], &v);
                if (r <= 0)
                        continue;
                if (k <= 1 && isempty(v))
                        return log_usage_error("Invalid %s='': a name or an id.", string_opts[k]);
                if (k == 2 && app_seccomp_validate(v, &err) < 0)
                        return log_usage_error("Invalid --seccomp='%s': %s.", v, err.message);
                if (k == 3 && pid_namespace_from_string(v) < 0)
                        return log_usage_error("Invalid --pid-namespace='%s': 'pod' or 'app'.", v);
                if (k == 4 && app_restart_from_string(v) < 0)
                        return log_usage_error("Invalid --restart='%s': 'no', 'on-failure' or 'always'.", v);
                if (k == 5 && ipc_namespace_from_string(v) < 0)
                        return log_usage_error("Invalid --ipc-namespace='%s': 'pod' or 'app'.", v);
                r = set_string(field, v);
                return r < 0 ? r : 1;
        }

        if ((r = option_value(argc, argv, i, "--supplementary-groups", &v)) != 0)
                return r < 0 ? r : split_list("--supplementary-groups", v, &app->supplementary_groups) ?: 1;
        if ((r = option_value(argc, argv, i, "--caps-retain", &v)) != 0 ||
            (r = option_value(argc, argv, i, "--caps-remove", &v)) != 0) {
                bool retain = startswith(argv[*i], "--caps-retain") || (*i > 0 && streq(argv[*i - 1], "--caps-retain"));
                char ***l = retain ? &app->caps_retain : &app->caps_remove;
                uint64_t caps;
                bool ambient;

                if (r < 0)
                        return r;
                r = split_list(retain ? "--caps-retain" : "--caps-remove", v, l);
                if (r < 0)
                        return r;
                if (app_caps_resolve(app->caps_retain, app->caps_remove, &caps, &ambient, &err) < 0)
                        return log_usage_error("Invalid --caps-%s='%s': %s.", retain ? "retain" : "remove", v, err.message);
                return 1;
        }
        if ((r = option_value(argc, argv, i, "--no-new-privileges", &v)) != 0) {
                if (r < 0 || (r = parse_bool_arg("--no-new-privileges", v, &b)) < 0)
                        return r;
                app->allow_new_privs = !b;
                return 1;
        }
        if (streq(argv[*i], "--readonly-rootfs")) {
                app->readonly_rootfs = true;
                return 1;
        }
        if ((v = startswith(argv[*i], "--readonly-rootfs="))) {
                r = parse_bool_arg("--readonly-rootfs", v, &app->readonly_rootfs);
                return r < 0 ? r : 1;
        }
        if (streq(argv[*i], "--privileged")) {
                app->privileged = true;
                return 1;
        }
        if ((v = startswith(argv[*i], "--privileged="))) {
                r = parse_bool_arg("--privileged", v, &app->privileged);
                return r < 0 ? r : 1;
        }
        return 0;
}

/* An app's resource limits: --cpu, --cpu-shares, --memory, --tasks-max. */
static int parse_app_limit_option(int argc, char *argv[], int *i, AppSpec *app) {
        PeapodError err = {};
        const char *v;
        int r;

        if ((r = option_value(argc, argv, i, "--cpu", &v)) != 0) {
                if (r < 0)
                        return r;
                if (parse_cpu_quota(v, &app->cpu_quota_usec) < 0)
                        return log_usage_error("Invalid --cpu='%s': e.g. 500m (millicores) or 2 (CPUs), at most 1024.", v);
                return 1;
        }
        if ((r = option_value(argc, argv, i, "--cpu-shares", &v)) != 0) {
                char *end;

                if (r < 0)
                        return r;
                errno = 0;
                app->cpu_shares = strtoull(v, &end, 10);
                if (errno != 0 || *end || !isdigit((unsigned char) v[0]) || app->cpu_shares < CPU_SHARES_MIN ||
                    app->cpu_shares > CPU_SHARES_MAX)
                        return log_usage_error("Invalid --cpu-shares='%s': %d-%d.", v, CPU_SHARES_MIN, CPU_SHARES_MAX);
                return 1;
        }
        if ((r = option_value(argc, argv, i, "--memory", &v)) != 0) {
                if (r < 0)
                        return r;
                if (parse_size(v, &app->memory_max) < 0 ||
                    app_limits_validate(0, 0, app->memory_max, 0, &err) < 0)
                        return log_usage_error("Invalid --memory='%s': a size such as 64M or 1G, at least 1M.", v);
                return 1;
        }
        if ((r = option_value(argc, argv, i, "--tasks-max", &v)) != 0) {
                char *end;

                if (r < 0)
                        return r;
                errno = 0;
                app->tasks_max = strtoull(v, &end, 10);
                if (errno != 0 || *end || !isdigit((unsigned char) v[0]) || app->tasks_max == 0 ||
                    app->tasks_max > APP_TASKS_MAX)
                        return log_usage_error("Invalid --tasks-max='%s': 1-%" PRIu64 ".", v, APP_TASKS_MAX);
                return 1;
        }
        return 0;
}

static int parse_app_mount_option(int argc, char *argv[], int *i, AppSpec *app) {
        PeapodError err = {};
        const char *v = NULL;
        int r;

        if ((r = option_value(argc, argv, i, "--mount", &v)) != 0) {
                AppMount *n;

                if (r < 0)
                        return r;
                if (app->n_mounts >= APP_MOUNTS_MAX)
                        return log_usage_error("Too many --mount= (at most %d).", APP_MOUNTS_MAX);
                n = reallocarray(app->mounts, app->n_mounts + 1, sizeof(AppMount));
                if (!n)
                        return log_oom();
                app->mounts = n;
                r = app_mount_from_string(v, &n[app->n_mounts], &err);
                if (r == -ENOMEM)
                        return log_oom();
                if (r < 0)
                        return log_usage_error("Invalid --mount='%s': %s.", v, err.message);
                app->n_mounts++;
                return 1;
        }
        if ((r = option_value(argc, argv, i, "--masked-path", &v)) != 0 ||
            (r = option_value(argc, argv, i, "--readonly-path", &v)) != 0) {
                bool masked = startswith(argv[*i], "--masked-path") || (*i > 0 && streq(argv[*i - 1], "--masked-path"));
                char ***l = masked ? &app->masked_paths : &app->readonly_paths;
                const char *reason;

                if (r < 0)
                        return r;
                if (app_protected_path_check(v, &reason) < 0)
                        return log_usage_error("Invalid %s='%s': %s.", masked ? "--masked-path" : "--readonly-path", v,
                                               reason);
                if (strv_length(*l) >= APP_PROTECTED_PATHS_MAX)
                        return log_usage_error("Too many %s= (at most %d).", masked ? "--masked-path" : "--readonly-path",
                                               APP_PROTECTED_PATHS_MAX);
                return strv_extend(l, v) < 0 ? log_oom() : 1;
        }
        if ((r = option_value(argc, argv, i, "--device", &v)) != 0) {
                AppDevice *n;

                if (r < 0)
                        return r;
                if (app->n_devices >= APP_DEVICES_MAX)
                        return log_usage_error("Too many --device= (at most %d).", APP_DEVICES_MAX);
                n = reallocarray(app->devices, app->n_devices + 1, sizeof(AppDevice));
                if (!n)
                        return log_oom();
                app->devices = n;
                r = app_device_from_string(v, &n[app->n_devices], &err);
                if (r == -ENOMEM)
                        return log_oom();
                if (r < 0)
                        return log_usage_error("Invalid --device='%s': %s.", v, err.message);
                app->n_devices++;
                return 1;
        }
        return 0;
}


/* The options of an app's identity, privileges, limits and mounts: 1 when
 * argv[*i] was one (consumed), 0 when not, < 0 after a usage error. The
 * values are checked with the same functions peapodd uses, so that a
 * typo is told here, before anything is created. */
static int parse_app_isolation_option(int argc, char *argv[], int *i, AppSpec *app) {
        int r;

        r = parse_app_privilege_option(argc, argv, i, app);
        if (r != 0)
                return r;
        r = parse_app_limit_option(argc, argv, i, app);
        if (r != 0)
                return r;
        return parse_app_mount_option(argc, argv, i, app);
}

int run_args_add_volume(RunArgs *a, const char *v) {
        PeapodError err = {};
        Volume *n;
        int r;

        if (a->n_volumes >= POD_VOLUMES_MAX)
                return log_usage_error("Too many --volume= (at most %d).", POD_VOLUMES_MAX);
        n = reallocarray(a->volumes, a->n_volumes + 1, sizeof(Volume));
        if (!n)
                return log_oom();
        a->volumes = n;
        r = volume_from_string(v, &n[a->n_volumes], &err);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0)
                return log_usage_error("Invalid --volume='%s': %s.", v, err.message);
        for (size_t i = 0; i < a->n_volumes; i++)
                if (streq(a->volumes[i].name, n[a->n_volumes].name)) {
                        volume_done(&n[a->n_volumes]);
                        return log_usage_error("Duplicate volume name '%s'.", a->volumes[i].name);
                }
        a->n_volumes++;
        return 0;
}

/* podman's -v (a path, or a name, with ':') rather than rkt's --volume=NAME,... */
static bool is_bind(const char *v) {
        return v[0] == '/' || strchr(v, ':');
}

/* -v HOSTPATH:TARGET[:ro|rw] (or --volume= with a path): a host volume
 * of the pod named bind-N, mounted in app, or in every app when app is
 * NULL (before the first image, as podman's users write it). */
static int run_args_add_bind(RunArgs *a, const char *v, AppSpec *app) {
        PeapodError err = {};
        AppMount **mounts = app ? &app->mounts : &a->mounts_all;
        size_t *n_mounts = app ? &app->n_mounts : &a->n_mounts_all;
        char name[32];
        Volume *nv;
        AppMount *nm;
        int r;

        if (a->n_volumes >= POD_VOLUMES_MAX)
                return log_usage_error("Too many volumes (at most %d).", POD_VOLUMES_MAX);
        if (*n_mounts >= APP_MOUNTS_MAX)
                return log_usage_error("Too many mounts (at most %d).", APP_MOUNTS_MAX);
        nv = reallocarray(a->volumes, a->n_volumes + 1, sizeof(Volume));
        if (!nv)
                return log_oom();
        a->volumes = nv;
        nm = reallocarray(*mounts, *n_mounts + 1, sizeof(AppMount));
        if (!nm)
                return log_oom();
        *mounts = nm;
        snprintf(name, sizeof(name), "bind-%u", a->n_binds);
        r = volume_bind_from_string(v, name, &nv[a->n_volumes], &nm[*n_mounts], &err);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0)
                return log_usage_error("Invalid -v '%s': %s.", v, err.message);
        a->n_volumes++;
        (*n_mounts)++;
        a->n_binds++;
        return 0;
}

/* -e KEY=VALUE (--set-env=) into env. */
static int add_env(char ***env, const char *v) {
        const char *eq = strchr(v, '=');

        if (!eq || eq == v)
                return log_usage_error("Invalid --set-env='%s' (-e): expected KEY=VALUE.", v);
        if (strv_extend(env, v) < 0)
                return log_oom();
        return 0;
}

/* What -e and -v gave before the first image, into every app: the
 * environment first (an app's own -e wins), the mounts last. */
static int run_args_apply_to_all(RunArgs *a) {
        int r;

        for (size_t i = 0; i < a->n_apps; i++) {
                AppSpec *app = &a->apps[i];

                if (a->env_all) {
                        _cleanup_strv_free_ char **env = strv_copy(a->env_all);

                        if (!env)
                                return log_oom();
                        FOREACH_STRV(e, app->env) {
                                r = strv_extend(&env, e);
                                if (r < 0)
                                        return log_oom();
                        }
                        strv_free(app->env);
                        app->env = TAKE_PTR(env);
                }
                for (size_t m = 0; m < a->n_mounts_all; m++) {
                        AppMount *n;

                        if (app->n_mounts >= APP_MOUNTS_MAX)
                                return log_usage_error("Too many mounts (at most %d).", APP_MOUNTS_MAX);
                        n = reallocarray(app->mounts, app->n_mounts + 1, sizeof(AppMount));
                        if (!n)
                                return log_oom();
                        app->mounts = n;
                        n[app->n_mounts] = (AppMount) { .volume = strdup(a->mounts_all[m].volume),
                                                        .target = strdup(a->mounts_all[m].target) };
                        app->n_mounts++;
                        if (!n[app->n_mounts - 1].volume || !n[app->n_mounts - 1].target)
                                return log_oom();
                }
        }
        return 0;
}

int run_args_check_mounts(const RunArgs *a) {
        for (size_t i = 0; i < a->n_apps; i++)
                for (size_t m = 0; m < a->apps[i].n_mounts; m++) {
                        bool found = false;

                        for (size_t k = 0; k < a->n_volumes && !found; k++)
                                found = streq(a->volumes[k].name, a->apps[i].mounts[m].volume);
                        if (!found)
                                return log_usage_error("--mount= of the app of image %s names volume '%s', but no --volume= defines it.",
                                                       a->apps[i].image, a->apps[i].mounts[m].volume);
                }
        return 0;
}

/* argv with --spec=FILE at argv[at] (its value at argv[*i]) replaced by the
 * spec's pod options, and the spec's apps after the rest; those start at
 * *ret_apps_at. */
static int expand_spec(int argc, char *argv[], int at, int i, const char *path, char ***ret, int *ret_apps_at) {
        _cleanup_strv_free_ char **pod = NULL, **apps = NULL, **l = calloc(1, sizeof(char *));
        int r;

        if (!l)
                return log_oom();
        r = run_spec_load(path, &pod, &apps);
        if (r < 0)
                return r;
        for (int k = 0; k < argc; k++)
                if (k == at) {
                        FOREACH_STRV(w, pod)
                                if (strv_extend(&l, w) < 0)
                                        return log_oom();
                } else if (k < at || k > i)
                        if (strv_extend(&l, argv[k]) < 0)
                                return log_oom();
        *ret_apps_at = (int) strv_length(l);
        FOREACH_STRV(w, apps)
                if (strv_extend(&l, w) < 0)
                        return log_oom();
        *ret = TAKE_PTR(l);
        return 0;
}

static int run_args_parse_full(int argc, char *argv[], const char *spec, int spec_apps_at, RunArgs *ret);

int run_args_parse(int argc, char *argv[], RunArgs *ret) {
        return run_args_parse_full(argc, argv, NULL, argc, ret);
}

/* A pod option other than --spec= (before the first image): 1 when argv[*i]
 * was one (consumed), 0 when not, < 0 after a usage error. */
static int parse_pod_option(int argc, char *argv[], int *i, RunArgs *a) {
        const char *s = argv[*i], *v;
        int r;

        if (streq(s, "-q") || streq(s, "--quiet"))
                a->quiet = true;
        else if (streq(s, "-d") || streq(s, "--detach"))
                a->detach = true;
        else if (streq(s, "--rm"))
                a->remove = true;
        else if (streq(s, "--replace"))
                a->replace = true;
        else if (streq(s, "-i") || streq(s, "--interactive"))
                a->interactive = true;
        else if (streq(s, "-t") || streq(s, "--tty"))
                a->tty = true;
        else if (streq(s, "-it") || streq(s, "-ti"))
                a->interactive = a->tty = true;
        else if ((r = option_value(argc, argv, i, "--name", &v)) != 0)
                return r < 0 ? r : set_string(&a->name, v) ?: 1;
        else if ((r = option_value(argc, argv, i, "--stage1", &v)) != 0)
                return r < 0 ? r : set_string(&a->stage1, v) ?: 1;
        else if ((r = parse_pod_network_option(argc, argv, i, a)) != 0)
                return r;
        else if ((r = option_value(argc, argv, i, "-v", &v)) != 0 ||
                 (r = option_value(argc, argv, i, "--volume", &v)) != 0)
                return r < 0 ? r : (is_bind(v) ? run_args_add_bind(a, v, NULL) : run_args_add_volume(a, v)) ?: 1;
        else if ((r = option_value(argc, argv, i, "-e", &v)) != 0 ||
                 (r = option_value(argc, argv, i, "--set-env", &v)) != 0)
                return r < 0 ? r : add_env(&a->env_all, v) ?: 1;
        else if ((r = option_value(argc, argv, i, "--pull", &v)) != 0) {
                if (r < 0)
                        return r;
                a->pull = pull_policy_from_string(v);
                if (a->pull < 0)
                        return log_usage_error("Invalid --pull='%s': 'missing', 'always' or 'never'.", v);
        } else if ((r = option_value(argc, argv, i, "--insecure-options", &v)) != 0)
                return r < 0 ? r : insecure_options_parse(v, &a->insecure_image) ?: 1;
        else
                return 0;
        return 1;
}

/* An option of the current app (after its image): 0 when it was one, or
 * a usage error for anything else. "--" and "---" are the caller's. */
static int parse_app_option(int argc, char *argv[], int *i, RunArgs *a, AppSpec *app, PendingApp *pending) {
        const char *s = argv[*i], *v;
        int r;

        /* -v, and --volume= with a host path: podman's spelling, for this
         * app; --volume=NAME,... stays a pod option. */
        if ((r = option_value(argc, argv, i, "-v", &v)) != 0)
                return r < 0 ? r : run_args_add_bind(a, v, app);
        if ((startswith(s, "--volume=") && is_bind(s + strlen("--volume="))) ||
            (streq(s, "--volume") && *i + 1 < argc && is_bind(argv[*i + 1]))) {
                r = option_value(argc, argv, i, "--volume", &v);
                return r < 0 ? r : run_args_add_bind(a, v, app);
        }

        if ((r = option_value(argc, argv, i, "--app-name", &v)) != 0) {
                if (r > 0)
                        r = set_string(&app->name, v);
        } else if ((r = option_value(argc, argv, i, "--exec", &v)) != 0) {
                if (r > 0)
                        pending->exec = v;
        } else if ((r = option_value(argc, argv, i, "--set-env", &v)) != 0 ||
                   (r = option_value(argc, argv, i, "-e", &v)) != 0) {
                if (r > 0)
                        r = add_env(&app->env, v);
        } else if ((r = option_value(argc, argv, i, "--working-dir", &v)) != 0) {
                if (r > 0) {
                        if (!app_workdir_is_valid(v))
                                r = log_usage_error("Invalid --working-dir='%s': must be an absolute path.", v);
                        else
                                r = set_string(&app->workdir, v);
                }
        } else if ((r = parse_app_isolation_option(argc, argv, i, app)) != 0) {
                if (r > 0)
                        r = 0;
        } else if (is_pod_option(s))
                r = log_usage_error("Option '%s' is a pod option: put it before the first image.", s);
        else if (s[0] == '-')
                r = log_usage_error("Unknown option '%s' for the app of image %s.", s, app->image);
        else
                r = log_usage_error("Unexpected '%s' after image %s: put the app's arguments after '--', "
                                    "and start another app with '---'.", s, app->image);
        return r < 0 ? r : 0;
}

/* argv[i], where an image is expected: the image of a new app. */
static int parse_image_word(RunArgs *a, const char *s, int where, const char *spec, int i, int spec_apps_at) {
        if (where == EXPECT_IMAGE && s[0] == '-')
                return log_usage_error("'---' must be followed by an image, not '%s'.", s);
        if (streq(s, "---") || streq(s, "--"))
                return log_usage_error("'%s' must follow an image.", s);
        if (s[0] == '-')
                return log_usage_error("Unknown option '%s'.", s);
        if (spec && i < spec_apps_at)
                return log_usage_error("Unexpected '%s': the pod spec %s gives the apps; an image "
                                       "cannot be added on the command line.", s, spec);
        return add_app(a, s);
}

/* What the options say together, once all are read. */
static int run_args_check(const RunArgs *a, int where) {
        if (a->n_apps == 0)
                return log_usage_error("No image given.");
        if (a->detach && a->remove)
                return log_usage_error("--rm removes the pod when 'run' sees it end: not with -d.");
        if (a->replace && !a->name)
                return log_usage_error("--replace removes the pod of the --name= given: give one.");
        if (a->detach && (a->interactive || a->tty))
                return log_usage_error("-i and -t relay the first app's stdin and terminal in the foreground: not with -d "
                                       "(use 'peapod enter -t POD' later).");
        if (where == EXPECT_IMAGE)
                return log_usage_error("'---' must be followed by an image.");
        return 0;
}

/* "---" ends an app (its words or its options), "--" after its options
 * starts its words: 1 when s was one of them. */
static int parse_app_separator(const char *s, int *where, AppSpec *app, PendingApp *pending) {
        int r;

        if (streq(s, "---")) {
                r = finish_app(app, pending);
                if (r < 0)
                        return r;
                *where = EXPECT_IMAGE;
                return 1;
        }
        if (*where == EXPECT_APP_OPTION && streq(s, "--")) {
                *where = EXPECT_APP_WORD;
                return 1;
        }
        return 0;
}

/* --spec=FILE at argv[at..i]: the command line again with the spec's words
 * in its place, parsed as a whole. */
static int run_args_parse_spec(int argc, char *argv[], int at, int i, const char *v, const char *spec,
                               RunArgs *ret) {
        _cleanup_strv_free_ char **words = NULL;
        int apps_at = 0, r;

        if (spec)
                return log_usage_error("--spec= may be given once.");
        r = expand_spec(argc, argv, at, i, v, &words, &apps_at);
        if (r < 0)
                return r;
        r = run_args_parse_full((int) strv_length(words), words, v, apps_at, ret);
        if (r < 0)
                log_error("The pod spec %s was not run.", v);
        return r;
}

static int run_args_parse_full(int argc, char *argv[], const char *spec, int spec_apps_at, RunArgs *ret) {
        _cleanup_(run_args_done) RunArgs a = {};
        _cleanup_(pending_app_done) PendingApp pending = {};
        int where = EXPECT_POD_OPTION_OR_IMAGE, r;

        for (int i = 1; i < argc; i++) {
                const char *s = argv[i], *v;
                AppSpec *app = a.n_apps > 0 ? &a.apps[a.n_apps - 1] : NULL;

                if (where == EXPECT_APP_WORD || where == EXPECT_APP_OPTION) {
                        r = parse_app_separator(s, &where, app, &pending);
                        if (r < 0)
                                return r;
                        if (r > 0)
                                continue;
                }
                if (where == EXPECT_APP_WORD) {
                        r = strv_extend(&pending.words, s);
                        if (r < 0)
                                return log_oom();
                        continue;
                }

                if (streq(s, "-h") || streq(s, "--help")) {
                        *ret = (RunArgs) { .help = true };
                        return 0;
                }

                if (where == EXPECT_POD_OPTION_OR_IMAGE) {
                        int at = i;

                        r = option_value(argc, argv, &i, "--spec", &v);
                        if (r < 0)
                                return r;
                        if (r > 0)
                                return run_args_parse_spec(argc, argv, at, i, v, spec, ret);
                        r = parse_pod_option(argc, argv, &i, &a);
                        if (r < 0)
                                return r;
                        if (r > 0)
                                continue;
                }

                if (where == EXPECT_POD_OPTION_OR_IMAGE || where == EXPECT_IMAGE) {
                        r = parse_image_word(&a, s, where, spec, i, spec_apps_at);
                        if (r < 0)
                                return r;
                        where = EXPECT_APP_OPTION;
                        continue;
                }

                /* EXPECT_APP_OPTION */
                r = parse_app_option(argc, argv, &i, &a, app, &pending);
                if (r < 0)
                        return r;
        }

        r = run_args_check(&a, where);
        if (r < 0)
                return r;
        r = finish_app(&a.apps[a.n_apps - 1], &pending);
        if (r < 0)
                return r;
        r = run_args_apply_to_all(&a);
        if (r < 0)
                return r;
        *ret = a;
        a = (RunArgs) {};
        return 0;
}
