/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cni.h"
#include "name.h"
#include "pod-network.h"
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

static void run_app_done(RunApp *a) {
        free(a->image);
        free(a->name);
        strv_free(a->exec);
        strv_free(a->args);
        strv_free(a->env);
        free(a->workdir);
        *a = (RunApp) {};
}

void run_args_done(RunArgs *a) {
        for (size_t i = 0; i < a->n_apps; i++)
                run_app_done(&a->apps[i]);
        free(a->apps);
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

static int finish_app(RunApp *a, PendingApp *p) {
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
        RunApp *n;

        if (isempty(image))
                return log_usage_error("Empty image name.");
        n = reallocarray(a->apps, a->n_apps + 1, sizeof(RunApp));
        if (!n)
                return log_oom();
        a->apps = n;
        a->apps[a->n_apps] = (RunApp) {};
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
                                                    "--dns", "--dns-search", "--hostname" };

        if (streq(s, "-q") || streq(s, "--quiet"))
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

/* Pod options that take a value. 1 when s was one, 0 when not. */
static int parse_pod_network_option(int argc, char *argv[], int *i, RunArgs *a) {
        const char *v;
        int r;

        if ((r = option_value(argc, argv, i, "--net", &v)) != 0)
                return r < 0 ? r : add_networks(a, v) < 0 ? -EINVAL : 1;
        if ((r = option_value(argc, argv, i, "--port", &v)) != 0) {
                PodPort p = {};

                if (r < 0)
                        return r;
                if (pod_port_parse(v, &p) < 0)
                        return log_usage_error("Invalid --port='%s': expected [IP:]HOSTPORT:PODPORT[/tcp|udp], ports 1-65535.", v);
                pod_port_done(&p);
                return strv_extend(&a->ports, v) < 0 ? log_oom() : 1;
        }
        if ((r = option_value(argc, argv, i, "--dns", &v)) != 0) {
                unsigned char buf[16];

                if (r < 0)
                        return r;
                if (inet_pton(AF_INET, v, buf) != 1 && inet_pton(AF_INET6, v, buf) != 1)
                        return log_usage_error("Invalid --dns='%s': not an IP address.", v);
                return strv_extend(&a->dns, v) < 0 ? log_oom() : 1;
        }
        if ((r = option_value(argc, argv, i, "--dns-search", &v)) != 0) {
                if (r < 0)
                        return r;
                if (isempty(v))
                        return log_usage_error("Invalid --dns-search='': empty domain.");
                return strv_extend(&a->dns_search, v) < 0 ? log_oom() : 1;
        }
        if ((r = option_value(argc, argv, i, "--hostname", &v)) != 0) {
                if (r < 0)
                        return r;
                if (!pod_name_is_valid(v))
                        return log_usage_error("Invalid --hostname='%s': use 1-64 letters, digits, '.' and '-', "
                                               "not starting with '-' or '.'.", v);
                return set_string(&a->hostname, v) < 0 ? -ENOMEM : 1;
        }
        return 0;
}

int run_args_parse(int argc, char *argv[], RunArgs *ret) {
        _cleanup_(run_args_done) RunArgs a = {};
        _cleanup_(pending_app_done) PendingApp pending = {};
        int where = EXPECT_POD_OPTION_OR_IMAGE, r;

        for (int i = 1; i < argc; i++) {
                const char *s = argv[i], *v;
                RunApp *app = a.n_apps > 0 ? &a.apps[a.n_apps - 1] : NULL;

                if (where == EXPECT_APP_WORD) {
                        if (streq(s, "---")) {
                                r = finish_app(app, &pending);
                                if (r < 0)
                                        return r;
                                where = EXPECT_IMAGE;
                                continue;
                        }
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
                        if (streq(s, "-q") || streq(s, "--quiet")) {
                                a.quiet = true;
                                continue;
                        }
                        r = option_value(argc, argv, &i, "--name", &v);
                        if (r < 0)
                                return r;
                        if (r > 0) {
                                r = set_string(&a.name, v);
                                if (r < 0)
                                        return r;
                                continue;
                        }
                        r = option_value(argc, argv, &i, "--stage1", &v);
                        if (r < 0)
                                return r;
                        if (r > 0) {
                                r = set_string(&a.stage1, v);
                                if (r < 0)
                                        return r;
                                continue;
                        }
                        r = parse_pod_network_option(argc, argv, &i, &a);
                        if (r < 0)
                                return r;
                        if (r > 0)
                                continue;
                        r = option_value(argc, argv, &i, "--pull", &v);
                        if (r < 0)
                                return r;
                        if (r > 0) {
                                a.pull = pull_policy_from_string(v);
                                if (a.pull < 0)
                                        return log_usage_error("Invalid --pull='%s': 'missing', 'always' or 'never'.", v);
                                continue;
                        }
                        r = option_value(argc, argv, &i, "--insecure-options", &v);
                        if (r < 0)
                                return r;
                        if (r > 0) {
                                r = insecure_options_parse(v, &a.insecure_image);
                                if (r < 0)
                                        return r;
                                continue;
                        }
                }

                if (where == EXPECT_POD_OPTION_OR_IMAGE || where == EXPECT_IMAGE) {
                        if (where == EXPECT_IMAGE && s[0] == '-')
                                return log_usage_error("'---' must be followed by an image, not '%s'.", s);
                        if (streq(s, "---") || streq(s, "--"))
                                return log_usage_error("'%s' must follow an image.", s);
                        if (s[0] == '-')
                                return log_usage_error("Unknown option '%s'.", s);
                        r = add_app(&a, s);
                        if (r < 0)
                                return r;
                        where = EXPECT_APP_OPTION;
                        continue;
                }

                /* EXPECT_APP_OPTION */
                if (streq(s, "--")) {
                        where = EXPECT_APP_WORD;
                        continue;
                }
                if (streq(s, "---")) {
                        r = finish_app(app, &pending);
                        if (r < 0)
                                return r;
                        where = EXPECT_IMAGE;
                        continue;
                }
                if ((r = option_value(argc, argv, &i, "--app-name", &v)) != 0) {
                        if (r > 0)
                                r = set_string(&app->name, v);
                } else if ((r = option_value(argc, argv, &i, "--exec", &v)) != 0) {
                        if (r > 0)
                                pending.exec = v;
                } else if ((r = option_value(argc, argv, &i, "--set-env", &v)) != 0) {
                        if (r > 0) {
                                const char *eq = strchr(v, '=');

                                if (!eq || eq == v)
                                        r = log_usage_error("Invalid --set-env='%s': expected KEY=VALUE.", v);
                                else if (strv_extend(&app->env, v) < 0)
                                        r = log_oom();
                        }
                } else if ((r = option_value(argc, argv, &i, "--working-dir", &v)) != 0) {
                        if (r > 0) {
                                if (v[0] != '/')
                                        r = log_usage_error("Invalid --working-dir='%s': must be an absolute path.", v);
                                else
                                        r = set_string(&app->workdir, v);
                        }
                } else if (is_pod_option(s))
                        r = log_usage_error("Option '%s' is a pod option: put it before the first image.", s);
                else if (s[0] == '-')
                        r = log_usage_error("Unknown option '%s' for the app of image %s.", s, app->image);
                else
                        r = log_usage_error("Unexpected '%s' after image %s: put the app's arguments after '--', "
                                            "and start another app with '---'.", s, app->image);
                if (r < 0)
                        return r;
        }

        if (a.n_apps == 0)
                return log_usage_error("No image given.");
        if (where == EXPECT_IMAGE)
                return log_usage_error("'---' must be followed by an image.");
        r = finish_app(&a.apps[a.n_apps - 1], &pending);
        if (r < 0)
                return r;

        *ret = a;
        a = (RunArgs) {};
        return 0;
}
