/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "stage1-util.h"
#include "string-util.h"
#include "strv.h"

int parse_pid(const char *s, pid_t *ret) {
        char *end;
        long v;

        if (isempty(s) || !isdigit((unsigned char) s[0]))
                return -EINVAL;
        errno = 0;
        v = strtol(s, &end, 10);
        if (errno != 0 || *end != 0 || v <= 0 || v > INT_MAX)
                return -EINVAL;
        *ret = (pid_t) v;
        return 0;
}

int parse_fd(const char *s, int *ret) {
        char *end;
        long v;

        if (isempty(s) || !isdigit((unsigned char) s[0]))
                return -EINVAL;
        errno = 0;
        v = strtol(s, &end, 10);
        if (errno != 0 || *end != 0 || v < 0 || v > INT_MAX)
                return -EINVAL;
        *ret = (int) v;
        return 0;
}

/* Loose on purpose: systemd decides what a unit is called; we only need a
 * single path component to compare against a cgroup path. */
bool unit_name_is_valid(const char *s) {
        size_t n;

        if (isempty(s) || streq(s, ".") || streq(s, ".."))
                return false;
        n = strlen(s);
        if (n > 256 || !strchr(s, '.'))
                return false;
        for (const char *p = s; *p; p++)
                if (*p == '/' || *p == '\n' || !isprint((unsigned char) *p))
                        return false;
        return true;
}

/* 1-64 ASCII letters and digits, and the punctuation in extra. */
static bool word_is_valid(const char *s, const char *extra) {
        if (isempty(s) || strlen(s) > 64)
                return false;
        for (const char *p = s; *p; p++)
                if (!isascii((unsigned char) *p) || !(isalnum((unsigned char) *p) || strchr(extra, *p)))
                        return false;
        return true;
}

/* The id (or the name, when given) becomes SYSLOG_IDENTIFIER of the app's
 * journal streams; peapodd passes 32 hex digits and a DNS label, other
 * stage0s may pick their own, but keep them to characters that need no
 * quoting anywhere. */
bool app_id_is_valid(const char *s) {
        return word_is_valid(s, "._-");
}

/* A subset of what systemd takes for LogNamespace= (no dot, a valid unit
 * instance): enough for a path below /run/systemd. */
bool log_namespace_is_valid(const char *s) {
        return word_is_valid(s, "_-");
}

bool env_has_path(char * const *env) {
        if (env)
                for (char * const *e = env; *e; e++)
                        if (strneq(*e, "PATH=", 5))
                                return true;
        return false;
}

static int path_is_absolute_arg(const char *name, const char *value) {
        if (isempty(value) || value[0] != '/')
                return log_error_errno(EINVAL, "--%s= needs an absolute path, got '%s'.", name, strempty(value));
        return 0;
}

static void init_help(void) {
        printf("%s --root=DIR --hostname=NAME --ready-fd=N [--host-network] [--sysctl=KEY=VALUE...]\n\n"
               "Create a pod's namespaces and its PID 1 (peapod stage1 contract %d).\n\n"
               "  -h --help          Show this help\n"
               "     --root=DIR      Empty directory to hold the pod's private root\n"
               "     --hostname=NAME Hostname of the pod\n"
               "     --ready-fd=N    Receives PID 1's host pid as a decimal line when ready\n"
               "     --host-network  Stay in the caller's network namespace\n"
               "     --sysctl=KEY=VALUE\n"
               "                     Set a namespaced sysctl in the pod (net.*, kernel.shm*,\n"
               "                     kernel.msg*, kernel.sem, fs.mqueue.*)\n",
               program_invocation_short_name, STAGE1_CONTRACT_VERSION);
}

int init_args_parse(int argc, char *argv[], InitArgs *ret) {
        enum { ARG_ROOT = 0x100, ARG_HOSTNAME, ARG_READY_FD, ARG_HOST_NETWORK, ARG_SYSCTL };
        static const struct option options[] = {
                { "help",     no_argument,       NULL, 'h'          },
                { "root",     required_argument, NULL, ARG_ROOT     },
                { "hostname", required_argument, NULL, ARG_HOSTNAME },
                { "ready-fd", required_argument, NULL, ARG_READY_FD },
                { "host-network", no_argument,   NULL, ARG_HOST_NETWORK },
                { "sysctl",   required_argument, NULL, ARG_SYSCTL   },
                {}
        };
        InitArgs a = { .ready_fd = -EBADF };
        int c;

        /* 0, not 1: makes glibc forget state from an earlier call. */
        optind = 0;
        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        init_help();
                        return 1;
                case ARG_ROOT:
                        if (path_is_absolute_arg("root", optarg) < 0)
                                return -EINVAL;
                        a.root = optarg;
                        break;
                case ARG_HOSTNAME:
                        if (!hostname_is_valid(optarg))
                                return log_error_errno(EINVAL, "Invalid hostname '%s'.", optarg);
                        a.hostname = optarg;
                        break;
                case ARG_HOST_NETWORK:
                        a.host_network = true;
                        break;
                case ARG_SYSCTL:
                        /* Checked below, once --host-network is known. */
                        if (a.n_sysctls >= POD_SYSCTLS_MAX)
                                return log_error_errno(E2BIG, "Too many --sysctl= (at most %d).", POD_SYSCTLS_MAX);
                        a.sysctls[a.n_sysctls++] = optarg;
                        break;
                case ARG_READY_FD:
                        /* 0-2 are stdio; a ready fd there is a caller bug. */
                        if (parse_fd(optarg, &a.ready_fd) < 0 || a.ready_fd < 3)
                                return log_error_errno(EINVAL, "Invalid --ready-fd='%s' (a descriptor >= 3).", optarg);
                        break;
                case '?':
                        return -EINVAL; /* getopt said why */
                default:
                        return log_error_errno(EINVAL, "Unexpected option %d.", c);
                }

        if (optind < argc)
                return log_error_errno(EINVAL, "Unexpected argument '%s'.", argv[optind]);
        if (!a.root || !a.hostname || a.ready_fd < 0)
                return log_error_errno(EINVAL, "--root=, --hostname= and --ready-fd= are required.");
        /* stage0 checked the same: a key outside the pod's own namespaces
         * (or net.* on the host's network) would change the host. */
        for (size_t i = 0; i < a.n_sysctls; i++)
                if (!sysctl_assignment_is_valid(a.sysctls[i], a.host_network))
                        return log_error_errno(EINVAL, "Invalid --sysctl='%s': not a sysctl of the pod's own namespaces.",
                                               a.sysctls[i]);

        *ret = a;
        return 0;
}

static void app_help(void) {
        printf("%s --leader=PID --scope=UNIT --rootfs=DIR --app-id=ID [OPTIONS...] -- CMD [ARG]...\n\n"
               "Run an app inside a pod (peapod stage1 contract %d).\n\n"
               "  -h --help          Show this help\n"
               "     --leader=PID    Host pid of the pod's PID 1\n"
               "     --scope=UNIT    Unit whose cgroup the leader must be in\n"
               "     --rootfs=DIR    The app's root file system (the overlay's mount point)\n"
               "     --lower=DIR     A lower layer of the app's overlay, the top one first (repeatable)\n"
               "     --upper=DIR     The overlay's writable layer\n"
               "     --work=DIR      The overlay's work directory\n"
               "     --app-id=ID     The app's id (identifier of its journal streams unless --app-name)\n"
               "     --app-name=NAME Identifier of the app's journal streams\n"
               "     --log-namespace=NAME\n"
               "                     The journald namespace of the app's streams and of our\n"
               "                     own complaints (default: the system journal)\n"
               "     --workdir=DIR   Working directory inside the app (default /)\n"
               "     --env=K=V       Environment of the app (repeatable; nothing else is passed)\n"
               "     --etc-dir=DIR   Bind DIR's hosts, resolv.conf and hostname read-only on the app's /etc\n"
               "     --readonly-rootfs\n"
               "                     Mount the app's root read-only\n"
               "     --pid-namespace=pod|app\n"
               "                     Join the pod's PID namespace (default) or make one\n"
               "     --ipc-namespace=pod|app\n"
               "                     Join the pod's IPC namespace (default) or make one\n"
               "     --bind=SOURCE:TARGET[:ro|:rslave|:rshared]\n"
               "                     Bind SOURCE to TARGET inside the app (repeatable); rslave:\n"
               "                     the host's later mounts below SOURCE arrive (needs\n"
               "                     --no-new-privileges=yes or --privileged); rshared: and\n"
               "                     the app's mounts below TARGET reach the host (needs\n"
               "                     --privileged)\n"
               "     --masked-path=PATH, --readonly-path=PATH\n"
               "                     Cover PATH inside the app with /dev/null or an empty\n"
               "                     tmpfs, or make it read-only (repeatable; missing: skipped)\n"
               "     --device=HOST:CONTAINER\n"
               "                     Bind the host's device node HOST at CONTAINER in the\n"
               "                     app's /dev (repeatable; the unit's device cgroup decides\n"
               "                     what the app may do with it)\n"
               "     --tty           Make the app a pty of its own (stdio, controlling terminal)\n"
               "                     and send its master over stdin, a unix socket\n"
               "     --machine-root  Make the app's root what machinectl copy-to/copy-from see\n"
               "                     (default flavour; the others ignore it)\n"
               "     --tty-log       --tty, and copy what the terminal shows to the journal\n"
               "     --privileged    The host's /dev (all its devices), /proc unmasked, /sys\n"
               "                     writable, every capability of the helper's bounding set;\n"
               "                     the caller has authorized it (stage1/README.md)\n"
               STAGE1_SECURITY_HELP,
               program_invocation_short_name, STAGE1_CONTRACT_VERSION);
}

void bind_spec_done(BindSpec *b) {
        b->source = mfree(b->source);
        b->target = mfree(b->target);
}

/* SOURCE:TARGET[:ro|:rw|:rslave|:rshared]. Neither path may hold ':'
 * (stage0 refuses such volumes), so the split is unambiguous. The target
 * is checked by app_mount_target_check(), the rule peapodd applies when
 * the app is created; *ret_reason says what is wrong with it. rslave and
 * rshared are writable: what arrives keeps the host's flags, so a
 * read-only one would not stay read-only (peapodd refuses the pair). */
int bind_spec_parse(const char *s, BindSpec *ret, const char **ret_reason) {
        _cleanup_free_ char *source = NULL, *target = NULL;
        VolumePropagation propagation = VOLUME_PROPAGATION_PRIVATE;
        const char *c1, *c2;
        bool ro = false;

        *ret_reason = "expected SOURCE:TARGET[:ro|:rw|:rslave|:rshared], absolute paths without '..'";
        if (!s || !(c1 = strchr(s, ':')))
                return -EINVAL;
        c2 = strchr(c1 + 1, ':');
        if (c2) {
                if (streq(c2 + 1, "ro"))
                        ro = true;
                else if (streq(c2 + 1, "rslave"))
                        propagation = VOLUME_PROPAGATION_RSLAVE;
                else if (streq(c2 + 1, "rshared"))
                        propagation = VOLUME_PROPAGATION_RSHARED;
                else if (!streq(c2 + 1, "rw"))
                        return -EINVAL;
        }
        source = strndup(s, (size_t) (c1 - s));
        target = c2 ? strndup(c1 + 1, (size_t) (c2 - c1 - 1)) : strdup(c1 + 1);
        if (!source || !target)
                return -ENOMEM;
        if (!mount_target_is_valid(source))
                return -EINVAL;
        if (app_mount_target_check(target, ret_reason) < 0)
                return -EINVAL;
        *ret_reason = NULL;
        *ret = (BindSpec) { .source = TAKE_PTR(source), .target = TAKE_PTR(target), .read_only = ro,
                            .propagation = propagation };
        return 0;
}

int device_spec_parse(const char *s, BindSpec *ret, const char **ret_reason) {
        _cleanup_free_ char *host = NULL;
        const char *c;

        *ret_reason = "expected HOST:CONTAINER";
        if (!s || !(c = strchr(s, ':')))
                return -EINVAL;
        host = strndup(s, (size_t) (c - s));
        if (!host)
                return -ENOMEM;
        /* The permissions are the device cgroup's (stage0's DeviceAllow=),
         * not ours: any valid set stands in for them here. */
        if (app_device_check(host, c + 1, "rwm", ret_reason) < 0)
                return -EINVAL;
        *ret = (BindSpec) { .source = TAKE_PTR(host), .target = strdup(c + 1) };
        if (!ret->target) {
                bind_spec_done(ret);
                return -ENOMEM;
        }
        *ret_reason = NULL;
        return 0;
}

void stage1_app_command_done(Stage1AppCommand *a) {
        strv_free(a->env);
        a->env = NULL;
        strv_free(a->lowers);
        a->lowers = NULL;
        stage1_security_done(&a->sec);
        for (size_t i = 0; i < a->n_binds; i++)
                bind_spec_done(&a->binds[i]);
        a->n_binds = 0;
        for (size_t i = 0; i < a->n_devices; i++)
                bind_spec_done(&a->devices[i]);
        a->n_devices = 0;
        strv_free(a->masked_paths);
        a->masked_paths = NULL;
        strv_free(a->readonly_paths);
        a->readonly_paths = NULL;
}

/* Long because it is one flat getopt switch, a case per option of the
 * stage1 app contract (stage1/README.md), each value checked where it is
 * read; split up, the contract would no longer read as one list. */
int stage1_app_command_parse(int argc, char *argv[], Stage1AppCommand *ret) {
        enum {
                ARG_LEADER = 0x100, ARG_SCOPE, ARG_ROOTFS, ARG_APP_ID, ARG_APP_NAME, ARG_LOG_NAMESPACE, ARG_WORKDIR, ARG_ENV,
                ARG_READONLY_ROOTFS, ARG_PID_NAMESPACE, ARG_BIND, ARG_ETC_DIR, ARG_TTY, ARG_TTY_LOG, ARG_LOWER, ARG_UPPER, ARG_WORK,
                ARG_MACHINE_ROOT, ARG_IPC_NAMESPACE, ARG_DEVICE, ARG_MASKED_PATH, ARG_READONLY_PATH,
                ARG_PRIVILEGED,
        };
        static const struct option options[] = {
                { "help",            no_argument,       NULL, 'h'                 },
                { "leader",          required_argument, NULL, ARG_LEADER          },
                { "scope",           required_argument, NULL, ARG_SCOPE           },
                { "rootfs",          required_argument, NULL, ARG_ROOTFS          },
                { "app-id",          required_argument, NULL, ARG_APP_ID          },
                { "app-name",        required_argument, NULL, ARG_APP_NAME        },
                { "log-namespace",   required_argument, NULL, ARG_LOG_NAMESPACE   },
                { "workdir",         required_argument, NULL, ARG_WORKDIR         },
                { "env",             required_argument, NULL, ARG_ENV             },
                { "readonly-rootfs", no_argument,       NULL, ARG_READONLY_ROOTFS },
                { "pid-namespace",   required_argument, NULL, ARG_PID_NAMESPACE   },
                { "ipc-namespace",   required_argument, NULL, ARG_IPC_NAMESPACE   },
                { "device",          required_argument, NULL, ARG_DEVICE          },
                { "masked-path",     required_argument, NULL, ARG_MASKED_PATH     },
                { "readonly-path",   required_argument, NULL, ARG_READONLY_PATH   },
                { "bind",            required_argument, NULL, ARG_BIND            },
                { "etc-dir",         required_argument, NULL, ARG_ETC_DIR         },
                { "tty",             no_argument,       NULL, ARG_TTY             },
                { "tty-log",         no_argument,       NULL, ARG_TTY_LOG         },
                { "lower",           required_argument, NULL, ARG_LOWER           },
                { "upper",           required_argument, NULL, ARG_UPPER           },
                { "work",            required_argument, NULL, ARG_WORK            },
                { "machine-root",    no_argument,       NULL, ARG_MACHINE_ROOT    },
                { "privileged",      no_argument,       NULL, ARG_PRIVILEGED      },
                STAGE1_SECURITY_OPTIONS,
                {}
        };
        _cleanup_(stage1_app_command_done) Stage1AppCommand a = {};
        _cleanup_strv_free_ char **env = NULL, **lowers = NULL;
        size_t n_lowers = 0;
        const char *reason;
        struct stat st;
        int c, r;

        optind = 0;
        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0) {
                r = stage1_security_parse_option(&a.sec, c, optarg);
                if (r < 0)
                        return r;
                if (r > 0)
                        continue;
                switch (c) {
                case 'h':
                        app_help();
                        return 1;
                case ARG_LEADER:
                        if (parse_pid(optarg, &a.leader) < 0)
                                return log_error_errno(EINVAL, "Invalid --leader='%s'.", optarg);
                        break;
                case ARG_SCOPE:
                        if (!unit_name_is_valid(optarg))
                                return log_error_errno(EINVAL, "Invalid --scope='%s'.", optarg);
                        a.scope = optarg;
                        break;
                case ARG_ROOTFS:
                        if (path_is_absolute_arg("rootfs", optarg) < 0)
                                return -EINVAL;
                        a.rootfs = optarg;
                        break;
                case ARG_APP_ID:
                        if (!app_id_is_valid(optarg))
                                return log_error_errno(EINVAL, "Invalid --app-id='%s'.", optarg);
                        a.app_id = optarg;
                        break;
                case ARG_APP_NAME:
                        /* The same rule: it becomes the identifier instead. */
                        if (!app_id_is_valid(optarg))
                                return log_error_errno(EINVAL, "Invalid --app-name='%s'.", optarg);
                        a.app_name = optarg;
                        break;
                case ARG_LOG_NAMESPACE:
                        if (!log_namespace_is_valid(optarg))
                                return log_error_errno(EINVAL, "Invalid --log-namespace='%s'.", optarg);
                        a.log_namespace = optarg;
                        break;
                case ARG_WORKDIR:
                        /* The rule peapodd applies when the app is created. */
                        if (!app_workdir_is_valid(optarg))
                                return log_error_errno(EINVAL, "Invalid working directory '%s': it must be an absolute path.", optarg);
                        a.workdir = optarg;
                        break;
                /* overlay_dir_is_valid(): the rule stage0 applies too. */
                case ARG_LOWER:
                        if (n_lowers >= STAGE1_LOWERS_MAX)
                                return log_error_errno(E2BIG, "Too many --lower= (at most %d).", STAGE1_LOWERS_MAX);
                        if (!overlay_dir_is_valid(optarg))
                                return log_error_errno(EINVAL, "Invalid --lower='%s'.", optarg);
                        if (strv_extend(&lowers, optarg) < 0)
                                return log_oom();
                        n_lowers++;
                        break;
                case ARG_UPPER:
                        if (!overlay_dir_is_valid(optarg))
                                return log_error_errno(EINVAL, "Invalid --upper='%s'.", optarg);
                        a.upper = optarg;
                        break;
                case ARG_WORK:
                        if (!overlay_dir_is_valid(optarg))
                                return log_error_errno(EINVAL, "Invalid --work='%s'.", optarg);
                        a.work = optarg;
                        break;
                case ARG_ETC_DIR:
                        if (path_is_absolute_arg("etc-dir", optarg) < 0)
                                return -EINVAL;
                        a.etc_dir = optarg;
                        break;
                case ARG_ENV:
                        if (!env_assignment_is_valid(optarg))
                                return log_error_errno(EINVAL, "Invalid --env='%s' (expected K=V).", optarg);
                        r = strv_extend(&env, optarg);
                        if (r < 0)
                                return log_oom();
                        break;
                case ARG_READONLY_ROOTFS:
                        a.readonly_rootfs = true;
                        break;
                case ARG_TTY:
                        a.tty = true;
                        break;
                case ARG_MACHINE_ROOT:
                        a.machine_root = true;
                        break;
                case ARG_PRIVILEGED:
                        a.privileged = true;
                        break;
                case ARG_TTY_LOG:
                        a.tty = a.tty_log = true;
                        break;
                case ARG_PID_NAMESPACE:
                        if (streq(optarg, "pod"))
                                a.private_pid_ns = false;
                        else if (streq(optarg, "app"))
                                a.private_pid_ns = true;
                        else
                                return log_error_errno(EINVAL, "Invalid --pid-namespace='%s' (pod or app).", optarg);
                        break;
                case ARG_IPC_NAMESPACE:
                        if (streq(optarg, "pod"))
                                a.private_ipc_ns = false;
                        else if (streq(optarg, "app"))
                                a.private_ipc_ns = true;
                        else
                                return log_error_errno(EINVAL, "Invalid --ipc-namespace='%s' (pod or app).", optarg);
                        break;
                case ARG_BIND:
                        if (a.n_binds >= STAGE1_BINDS_MAX)
                                return log_error_errno(E2BIG, "Too many --bind= (at most %d).", STAGE1_BINDS_MAX);
                        r = bind_spec_parse(optarg, &a.binds[a.n_binds], &reason);
                        if (r == -ENOMEM)
                                return log_oom();
                        if (r < 0)
                                return log_error_errno(EINVAL, "Invalid --bind='%s': %s.", optarg, reason);
                        a.n_binds++;
                        break;
                case ARG_MASKED_PATH:
                case ARG_READONLY_PATH: {
                        char ***l = c == ARG_MASKED_PATH ? &a.masked_paths : &a.readonly_paths;
                        const char *name = c == ARG_MASKED_PATH ? "--masked-path" : "--readonly-path";

                        if (strv_length(*l) >= STAGE1_BINDS_MAX)
                                return log_error_errno(E2BIG, "Too many %s= (at most %d).", name, STAGE1_BINDS_MAX);
                        if (app_protected_path_check(optarg, &reason) < 0)
                                return log_error_errno(EINVAL, "Invalid %s='%s': %s.", name, optarg, reason);
                        if (strv_extend(l, optarg) < 0)
                                return log_oom();
                        break;
                }
                case ARG_DEVICE:
                        if (a.n_devices >= STAGE1_BINDS_MAX)
                                return log_error_errno(E2BIG, "Too many --device= (at most %d).", STAGE1_BINDS_MAX);
                        r = device_spec_parse(optarg, &a.devices[a.n_devices], &reason);
                        if (r == -ENOMEM)
                                return log_oom();
                        if (r < 0)
                                return log_error_errno(EINVAL, "Invalid --device='%s': %s.", optarg, reason);
                        a.n_devices++;
                        break;
                case '?':
                        return -EINVAL;
                default:
                        return log_error_errno(EINVAL, "Unexpected option %d.", c);
                }
        }

        if (a.leader <= 0 || !a.scope || !a.rootfs || !a.app_id)
                return log_error_errno(EINVAL, "--leader=, --scope=, --rootfs= and --app-id= are required.");
        if (!!a.upper != !!a.work || !!a.upper != (n_lowers > 0))
                return log_error_errno(EINVAL, "--lower=, --upper= and --work= go together.");
        if (optind >= argc || isempty(argv[optind]))
                return log_error_errno(EINVAL, "No command given.");
        /* The host's whole /dev is there, and nothing of /proc or the
         * rest is hidden: these would only pretend to narrow it. */
        if (a.privileged && (a.n_devices > 0 || a.masked_paths || a.readonly_paths))
                return log_error_errno(EINVAL, "--privileged goes with neither --device= nor --masked-path= nor --readonly-path=.");
        /* --tty's pty is the app's own, made here; stdin only carries its
         * master to the caller. systemd hands the caller's socket to the
         * unit's first start only (it drops a unit's stdio fds once the
         * unit has stopped): a restart (Restart=) gets /dev/null, and the
         * app then runs as without --tty, into the journal. */
        if (a.tty && (fstat(STDIN_FILENO, &st) < 0 || !S_ISSOCK(st.st_mode)))
                a.tty = a.tty_log = false;

        /* The rule peapodd applied at the app's creation, again here:
         * arrivals on a slave bind keep the host's suid, a shared bind
         * mounts onto the host (fs-util.h). */
        for (size_t i = 0; i < a.n_binds; i++)
                if (app_mount_propagation_check(a.binds[i].propagation, a.sec.no_new_privs, a.privileged, &reason) < 0)
                        return log_error_errno(EPERM, "Invalid --bind='%s:%s:%s': %s.", a.binds[i].source,
                                               a.binds[i].target,
                                               a.binds[i].propagation == VOLUME_PROPAGATION_RSHARED ? "rshared" : "rslave",
                                               reason);

        a.cmd = argv + optind;
        a.env = TAKE_PTR(env);
        a.lowers = TAKE_PTR(lowers);
        *ret = a;
        a = (Stage1AppCommand) {};
        return 0;
}

static bool path_ends_with_unit(const char *path, size_t len, const char *unit) {
        size_t n = strlen(unit);

        return len > n && path[len - n - 1] == '/' && memcmp(path + len - n, unit, n) == 0;
}

static bool controllers_have_systemd(const char *s, size_t len) {
        static const char name[] = "name=systemd";
        const size_t n = sizeof(name) - 1;

        while (len > 0) {
                const char *comma = memchr(s, ',', len);
                size_t l = comma ? (size_t) (comma - s) : len;

                if (l == n && memcmp(s, name, n) == 0)
                        return true;
                if (!comma)
                        break;
                len -= l + 1;
                s = comma + 1;
        }
        return false;
}

int read_small_fileat(int dir_fd, const char *name, char *buf, size_t size) {
        _cleanup_close_ int fd = -EBADF;
        size_t n = 0;

        fd = openat(dir_fd, name, O_RDONLY | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        for (;;) {
                ssize_t k;

                if (n >= size - 1)
                        return -EFBIG;
                k = read(fd, buf + n, size - 1 - n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                n += (size_t) k;
        }
        buf[n] = 0;
        return 0;
}

int proc_check_in_unit(int proc_fd, const char *path, const char *unit, size_t max_size) {
        _cleanup_free_ char *cgroup = malloc(max_size);
        int r;

        if (!cgroup)
                return log_oom();
        r = read_small_fileat(proc_fd, "cgroup", cgroup, max_size);
        if (r < 0)
                return log_error_errno(r, "Failed to read %s/cgroup: %m", path);
        r = cgroup_contents_in_unit(cgroup, unit);
        if (r < 0)
                return log_error_errno(r, "Failed to parse %s/cgroup.", path);
        if (r == 0)
                return log_error_errno(ESRCH, "%s is not in %s, refusing.", path, unit);
        return 0;
}

/* Iterates the lines of a /proc/PID/cgroup file that name systemd's
 * hierarchy (the unified "0::" one or the named "name=systemd" one):
 * returns 1 with the line's path, 0 at the end, -EINVAL on garbage. */
static int cgroup_next_systemd_path(const char **cursor, const char **ret_path, size_t *ret_len) {
        while (**cursor) {
                const char *line = *cursor, *nl = strchr(line, '\n');
                size_t len = nl ? (size_t) (nl - line) : strlen(line);
                const char *c1 = memchr(line, ':', len), *c2;

                *cursor = nl ? nl + 1 : line + len;
                if (!c1)
                        return -EINVAL;
                c2 = memchr(c1 + 1, ':', len - (size_t) (c1 + 1 - line));
                if (!c2)
                        return -EINVAL;

                bool unified = c1 - line == 1 && line[0] == '0' && c2 == c1 + 1;

                if (unified || controllers_have_systemd(c1 + 1, (size_t) (c2 - c1 - 1))) {
                        *ret_path = c2 + 1;
                        *ret_len = len - (size_t) (c2 + 1 - line);
                        return 1;
                }
        }
        return 0;
}

int cgroup_contents_in_unit(const char *contents, const char *unit) {
        const char *path;
        size_t len;
        int r;

        if (!contents || !unit_name_is_valid(unit))
                return -EINVAL;

        while ((r = cgroup_next_systemd_path(&contents, &path, &len)) > 0)
                if (path_ends_with_unit(path, len, unit))
                        return 1;
        return r;
}

int cgroup_contents_unit(const char *contents, char **ret_unit) {
        const char *path;
        size_t len;
        int r;

        if (!contents)
                return -EINVAL;

        while ((r = cgroup_next_systemd_path(&contents, &path, &len)) > 0) {
                const char *slash = memrchr(path, '/', len);
                _cleanup_free_ char *unit = NULL;

                if (!slash)
                        continue;
                unit = strndup(slash + 1, len - (size_t) (slash + 1 - path));
                if (!unit)
                        return -ENOMEM;
                if (unit_name_is_valid(unit)) {
                        *ret_unit = TAKE_PTR(unit);
                        return 0;
                }
        }
        return r < 0 ? r : -ENOENT;
}

int exec_errno_to_exit_status(int error) {
        switch (abs(error)) {
        case ENOENT:
        case ENOTDIR:
        case ENAMETOOLONG:
        case ELOOP:
                return STAGE1_APP_EXIT_NOT_FOUND;
        default:
                return STAGE1_APP_EXIT_NOT_EXECUTABLE;
        }
}

int mkdirat_nofollow(int dir_fd, const char *name, mode_t mode) {
        int fd;

        if (isempty(name) || strchr(name, '/') || streq(name, ".") || streq(name, ".."))
                return -EINVAL;

        /* mkdirat() never follows a symlink in the last component: if one
         * is there it fails with EEXIST, and the open below refuses it. */
        if (mkdirat(dir_fd, name, mode) < 0 && errno != EEXIST)
                return -errno;

        fd = openat(dir_fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return fd;
}

int mkfileat_nofollow(int dir_fd, const char *name, mode_t mode) {
        _cleanup_close_ int fd = -EBADF;

        if (isempty(name) || strchr(name, '/'))
                return -EINVAL;

        fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd < 0)
                return -errno;
        fd = safe_close(fd);

        fd = openat(dir_fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return TAKE_FD(fd);
}

/* A decimal id of [s, s+n). (uid_t) -1 is refused: set*id() read it as
 * "leave unchanged", so "4294967295" would silently keep us root. */
static int parse_id_n(const char *s, size_t n, uint32_t *ret) {
        uint64_t v = 0;

        if (n == 0 || n > 10)
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -EINVAL;
                v = v * 10 + (uint64_t) (s[i] - '0');
        }
        if (v >= UINT32_MAX)
                return -EINVAL;
        *ret = (uint32_t) v;
        return 0;
}

static bool is_all_digits(const char *s, size_t n) {
        if (n == 0)
                return false;
        for (size_t i = 0; i < n; i++)
                if (s[i] < '0' || s[i] > '9')
                        return false;
        return true;
}

typedef struct Field {
        const char *p;
        size_t n;
} Field;

static bool field_eq(Field f, const char *s, size_t n) {
        return f.n == n && memcmp(f.p, s, n) == 0;
}

/* Splits one line at ':' into at most max fields; returns how many there
 * are (possibly more than max, the rest not stored). */
static size_t split_fields(const char *s, size_t len, Field *f, size_t max) {
        size_t k = 0;

        for (;;) {
                const char *c = memchr(s, ':', len);
                size_t l = c ? (size_t) (c - s) : len;

                if (k < max)
                        f[k] = (Field) { s, l };
                k++;
                if (!c)
                        return k;
                len -= l + 1;
                s = c + 1;
        }
}

/* Walks contents line by line: *cursor advances past the line returned in
 * (ret_line, ret_len). False at the end. */
static bool next_line(const char **cursor, const char **ret_line, size_t *ret_len) {
        const char *s = *cursor, *nl;

        if (!s || !*s)
                return false;
        nl = strchr(s, '\n');
        *ret_line = s;
        *ret_len = nl ? (size_t) (nl - s) : strlen(s);
        *cursor = nl ? nl + 1 : s + *ret_len;
        return true;
}

/* Comments, blank lines and NIS "+"/"-" lines are no entries; glibc's
 * files module would skip them too. */
static bool line_is_entry(const char *line, size_t len) {
        return len > 0 && line[0] != '#' && line[0] != '+' && line[0] != '-';
}

typedef struct PasswdEntry {
        Field name, home;
        uid_t uid;
        gid_t gid;
} PasswdEntry;

/* The first entry whose name is [name, name+n), or, when by_uid, whose uid
 * is uid. Malformed lines are skipped, never half-used. */
static bool passwd_find(const char *contents, const char *name, size_t n, bool by_uid, uid_t uid,
                        PasswdEntry *ret) {
        const char *cursor = contents, *line;
        size_t len;

        while (next_line(&cursor, &line, &len)) {
                Field f[7] = {};
                uint32_t u, g;
                size_t k;

                if (!line_is_entry(line, len))
                        continue;
                k = split_fields(line, len, f, ELEMENTSOF(f));
                if (k < 4 || f[0].n == 0 || parse_id_n(f[2].p, f[2].n, &u) < 0 || parse_id_n(f[3].p, f[3].n, &g) < 0)
                        continue;
                if (by_uid ? u != uid : !field_eq(f[0], name, n))
                        continue;
                *ret = (PasswdEntry) { .name = f[0], .home = k >= 6 ? f[5] : (Field) {}, .uid = u, .gid = g };
                return true;
        }
        return false;
}

static bool group_find(const char *contents, const char *name, size_t n, gid_t *ret) {
        const char *cursor = contents, *line;
        size_t len;

        while (next_line(&cursor, &line, &len)) {
                Field f[4] = {};
                uint32_t g;

                if (!line_is_entry(line, len))
                        continue;
                if (split_fields(line, len, f, ELEMENTSOF(f)) < 3 || parse_id_n(f[2].p, f[2].n, &g) < 0)
                        continue;
                if (field_eq(f[0], name, n)) {
                        *ret = g;
                        return true;
                }
        }
        return false;
}

static bool member_list_has(Field members, Field user) {
        const char *s = members.p;
        size_t len = members.n;

        while (len > 0) {
                const char *comma = memchr(s, ',', len);
                size_t l = comma ? (size_t) (comma - s) : len;

                if (l == user.n && memcmp(s, user.p, l) == 0)
                        return true;
                if (!comma)
                        break;
                len -= l + 1;
                s = comma + 1;
        }
        return false;
}

static int group_members(const char *contents, Field user, Credentials *c) {
        const char *cursor = contents, *line;
        size_t len;

        while (next_line(&cursor, &line, &len)) {
                Field f[4] = {};
                bool dup = false;
                uint32_t g;

                if (!line_is_entry(line, len))
                        continue;
                if (split_fields(line, len, f, ELEMENTSOF(f)) < 4 || parse_id_n(f[2].p, f[2].n, &g) < 0 ||
                    !member_list_has(f[3], user))
                        continue;
                for (size_t i = 0; i < c->n_groups; i++)
                        dup = dup || c->groups[i] == g;
                if (dup)
                        continue;
                /* Refused rather than cut: which groups a cut would drop is
                 * arbitrary, and a group can also deny access. */
                if (c->n_groups >= ELEMENTSOF(c->groups))
                        return -E2BIG;
                c->groups[c->n_groups++] = g;
        }
        return 0;
}

void credentials_done(Credentials *c) {
        c->home = mfree(c->home);
}

int credentials_resolve(const char *spec, const char *passwd, const char *group, Credentials *ret,
                        const char **ret_what) {
        _cleanup_(credentials_done) Credentials c = {};
        const char *colon, *g = NULL;
        PasswdEntry pw = {};
        bool have_pw;
        size_t un;
        uint32_t id;
        int r;

        *ret_what = "user";
        if (!user_spec_is_valid(spec))
                return -EINVAL;
        colon = strchr(spec, ':');
        un = colon ? (size_t) (colon - spec) : strlen(spec);
        if (colon)
                g = colon + 1;

        /* All digits is an id, as in docker; such a name cannot be used. */
        if (is_all_digits(spec, un)) {
                r = parse_id_n(spec, un, &id);
                if (r < 0)
                        return r;
                c.uid = id;
                have_pw = passwd && passwd_find(passwd, NULL, 0, true, c.uid, &pw);
                c.gid = have_pw ? pw.gid : 0;
        } else {
                have_pw = passwd && passwd_find(passwd, spec, un, false, 0, &pw);
                if (!have_pw)
                        return -ESRCH;
                c.uid = pw.uid;
                c.gid = pw.gid;
        }

        if (g) {
                *ret_what = "group";
                if (is_all_digits(g, strlen(g))) {
                        r = parse_id_n(g, strlen(g), &id);
                        if (r < 0)
                                return r;
                        c.gid = id;
                } else if (!group || !group_find(group, g, strlen(g), &c.gid))
                        return -ESRCH;
        }

        if (have_pw) {
                if (pw.home.n > 0) {
                        c.home = strndup(pw.home.p, pw.home.n);
                        if (!c.home)
                                return -ENOMEM;
                }
                if (group) {
                        r = group_members(group, pw.name, &c);
                        if (r < 0)
                                return r;
                }
        }

        *ret = c;
        c.home = NULL;
        return 0;
}

int read_id_file(const char *path, size_t max, char **ret) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        size_t n = 0;

        /* O_NONBLOCK: opening a FIFO must not wait for a writer; O_NOCTTY:
         * a tty must not become ours. Both only matter until the check. */
        fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        if (st.st_size < 0 || (uint64_t) st.st_size > max)
                return -EFBIG;

        buf = malloc(max + 1);
        if (!buf)
                return -ENOMEM;
        /* Bounded by max, not by st_size: the file may grow meanwhile. */
        for (;;) {
                ssize_t k;

                if (n >= max + 1)
                        return -EFBIG;
                k = read(fd, buf + n, max + 1 - n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                n += (size_t) k;
        }
        if (n > max)
                return -EFBIG;
        /* A NUL inside would end our view of the file early; such a file is
         * no passwd file. */
        if (memchr(buf, 0, n))
                return -EBADMSG;
        buf[n] = 0;
        *ret = TAKE_PTR(buf);
        return 0;
}

int mountinfo_mount_point(const char *line, char *buf, size_t size) {
        const char *p = line;
        size_t n = 0;

        /* mount id, parent id, major:minor, root, then the mount point. */
        for (int field = 0; field < 4; field++) {
                p = strchr(p, ' ');
                if (!p)
                        return -EINVAL;
                p++;
        }
        if (*p != '/')
                return -EINVAL;
        for (; *p && *p != ' ' && *p != '\n'; p++) {
                char c = *p;

                if (c == '\\') {
                        /* Always three octal digits: the kernel escapes
                         * space, tab, newline and backslash so. */
                        if (p[1] < '0' || p[1] > '3' || p[2] < '0' || p[2] > '7' || p[3] < '0' || p[3] > '7')
                                return -EINVAL;
                        c = (char) ((p[1] - '0') << 6 | (p[2] - '0') << 3 | (p[3] - '0'));
                        p += 3;
                        if (c == 0)
                                return -EINVAL;
                }
                if (n + 1 >= size)
                        return -ENAMETOOLONG;
                buf[n++] = c;
        }
        if (*p != ' ')
                return -EINVAL;
        buf[n] = 0;
        return 0;
}

bool path_is_at_or_below(const char *path, const char *prefix) {
        size_t l = strlen(prefix);

        if (streq(prefix, "/"))
                return path[0] == '/';
        return strneq(path, prefix, l) && (path[l] == 0 || path[l] == '/');
}

char *fd_path(char buf[static FD_PATH_MAX], int fd) {
        snprintf(buf, FD_PATH_MAX, "/proc/self/fd/%i", fd);
        return buf;
}

int credentials_add_groups(Credentials *c, char * const *groups, const char *group, const char **ret_bad) {
        if (groups)
                for (char * const *g = groups; *g; g++) {
                        size_t n = strlen(*g);
                        bool dup = false;
                        uint32_t id;

                        *ret_bad = *g;
                        if (!user_part_is_valid(*g, n))
                                return -EINVAL;
                        if (is_all_digits(*g, n)) {
                                if (parse_id_n(*g, n, &id) < 0)
                                        return -EINVAL;
                        } else if (!group || !group_find(group, *g, n, &id))
                                return -ESRCH;
                        for (size_t i = 0; i < c->n_groups; i++)
                                dup = dup || c->groups[i] == id;
                        if (dup)
                                continue;
                        if (c->n_groups >= ELEMENTSOF(c->groups))
                                return -E2BIG;
                        c->groups[c->n_groups++] = id;
                }
        *ret_bad = NULL;
        return 0;
}

/* Reachable from here until exit, so that leak checkers see no leak. */
static char *args_file_data;
static char **args_file_argv;

int stage1_args_file_load(int *argc, char ***argv, bool unlink_after) {
        _cleanup_free_ char *data = NULL;
        _cleanup_free_ char **nargv = NULL;
        _cleanup_close_ int fd = -EBADF;
        const char *path;
        struct stat st;
        size_t n = 0, count = 0;

        if (*argc < 2 || !startswith((*argv)[1], "--args-file="))
                return 0;
        path = (*argv)[1] + strlen("--args-file=");
        if (*argc != 2)
                return log_error_errno(EINVAL, "--args-file= must be the only argument.");
        if (path[0] != '/')
                return log_error_errno(EINVAL, "--args-file= must be an absolute path.");

        fd = open(path, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(errno, "Failed to open %s: %m", path);
        if (fstat(fd, &st) < 0)
                return log_error_errno(errno, "Failed to stat %s: %m", path);
        if (!S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 0022))
                return log_error_errno(EPERM, "%s is not a regular file written only by root, refusing.", path);
        if ((uint64_t) st.st_size > STAGE1_ARGS_FILE_MAX)
                return log_error_errno(EFBIG, "%s is larger than %u bytes.", path, STAGE1_ARGS_FILE_MAX);

        data = malloc((size_t) st.st_size + 1);
        if (!data)
                return log_oom();
        for (;;) {
                ssize_t k = read(fd, data + n, (size_t) st.st_size + 1 - n);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return log_error_errno(errno, "Failed to read %s: %m", path);
                }
                if (k == 0)
                        break;
                n += (size_t) k;
                /* It grew while we read: not a file stage0 finished writing. */
                if (n > (size_t) st.st_size)
                        return log_error_errno(EBUSY, "%s changed while being read.", path);
        }
        if (n == 0 || data[n - 1] != 0)
                return log_error_errno(EINVAL, "%s does not end with a NUL-terminated argument.", path);

        for (size_t i = 0; i < n; i++)
                if (data[i] == 0)
                        count++;
        if (count > STAGE1_ARGS_MAX)
                return log_error_errno(E2BIG, "%s has more than %u arguments.", path, STAGE1_ARGS_MAX);

        nargv = calloc(count + 2, sizeof(char *));
        if (!nargv)
                return log_oom();
        nargv[0] = (*argv)[0];
        for (size_t i = 0, k = 1; i < n; k++) {
                nargv[k] = data + i;
                i += strlen(data + i) + 1;
        }

        if (unlink_after && unlink(path) < 0)
                return log_error_errno(errno, "Failed to remove %s: %m", path);

        free(args_file_data);
        free(args_file_argv);
        args_file_data = TAKE_PTR(data);
        args_file_argv = TAKE_PTR(nargv);
        *argc = (int) count + 1;
        *argv = args_file_argv;
        return 1;
}
