/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "crash-point.h"

int cli_exit_status = -1;
char **cli_argv = NULL;

typedef struct Verb {
        const char *name;
        int (*run)(int argc, char *argv[]);
        const char *summary;
        const char *usage;
} Verb;

static const Verb verbs[] = {
        { "run", verb_run, "Create a pod of one or more apps and start it",
          "peapod run [-d|--rm] [-i] [-t] [--replace] [--name=NAME] [--stage1=FLAVOUR] [--pull=POLICY] [--insecure-options=image]\n"
          "                [--quiet] [--net=NETWORKS] [-p|--port=[IP:]HOSTPORT:PODPORT[/PROTO]]...\n"
          "                [--dns=IP]... [--dns-search=DOMAIN]... [--hostname=NAME]\n"
          "                IMAGE [APP-OPTIONS] [-- ARGS...]\n"
          "                [--- IMAGE [APP-OPTIONS] [-- ARGS...]]...\n"
          "peapod run [-d|--rm] [--replace] [OPTIONS] --spec=FILE\n\n"
          "Create a pod with one app per IMAGE, start it, and stay in the foreground:\n"
          "the apps' output as it comes (stdout to stdout, stderr to stderr, 'APP | '\n"
          "before each line when there are several apps) until the pod has ended; then\n"
          "exit with the status of the first app that did not exit 0 (128+N when signal\n"
          "N killed it), or 0. Ctrl-C (SIGINT) or SIGTERM stops the pod first.\n"
          "With -d, print the pod's id and return once the apps are started.\n"
          "With -i the first app reads our stdin (through a pipe); with -t it gets a\n"
          "terminal of its own, relayed here (-it: every key, ^C too, goes to it).\n\n"
          "Options (before the first IMAGE):\n"
          "  -h --help                Show this help\n"
          "  -d --detach              Return once the apps are started; print the pod's id\n"
          "     --rm                  Remove the pod when it has ended (not with -d)\n"
          "  -i --interactive         Feed our stdin to the first app (not with -d)\n"
          "  -t --tty                 Give the first app a terminal of its own and relay\n"
          "                           it; its output then bypasses the journal (not with -d)\n"
          "     --replace             Remove a pod of the same --name= first (running or not)\n"
          "     --spec=FILE           Run the pod that FILE describes (peapod-pod.json(5)):\n"
          "                           its keys are these options; options after it win\n"
          "     --name=NAME           Name of the pod (default: pod-<first 8 digits of its id>)\n"
          "     --stage1=FLAVOUR      The pod's stage1: 'default' (own namespaces) or\n"
          "                           'fly' (host namespaces, chroot only)\n"
          "     --pull=POLICY         When to pull the images: 'missing' (default: those\n"
          "                           the store lacks), 'always' (all but localhost/\n"
          "                           names) or 'never'\n"
          "     --insecure-options=image\n"
          "                           Pull images the trust policy would refuse, with a\n"
          "                           warning (this command only)\n"
          "  -q --quiet               -d: do not print the pod's id\n"
          "     --net=NETWORKS        'default' (the default: the CNI network 'peapod'),\n"
          "                           'host' (the host's network), 'none' (only lo), or\n"
          "                           CNI network names separated by ',' (eth0, eth1, ...)\n"
          "  -p --port=[IP:]HOSTPORT:PODPORT[/tcp|udp]\n"
          "                           Publish a pod port on the host (repeatable; first\n"
          "                           CNI network; also on the host's 127.0.0.1; one pod\n"
          "                           per host port)\n"
          "     --dns=IP              Name server in the pod's /etc/resolv.conf (repeatable;\n"
          "                           default: the host's, without loopback ones)\n"
          "     --dns-search=DOMAIN   Search domain in the pod's /etc/resolv.conf (repeatable)\n"
          "     --hostname=NAME       The pod's hostname (default: the pod's name)\n"
          "     --volume=NAME,kind=host,source=PATH[,readOnly=true][,propagation=rslave|rshared]\n"
          "     --volume=NAME,kind=empty|tmpfs[,size=SIZE][,readOnly=true]\n"
          "                           A volume of the pod (repeatable): a host directory\n"
          "                           or file, an empty directory, or a tmpfs, shared by\n"
          "                           the apps that mount it; rslave: the host's later\n"
          "                           mounts below PATH appear in the apps (writable\n"
          "                           volume, apps with no_new_privs or --privileged);\n"
          "                           rshared: and an app's mounts below its target\n"
          "                           appear on the host (--privileged apps only)\n"
          "  -v --volume=HOSTPATH:TARGET[:ro|rw|rslave|rshared]\n"
          "                           podman's spelling: a host volume mounted at TARGET\n"
          "                           (repeatable; here for every app, after an IMAGE for\n"
          "                           that app)\n"
          "  -e --set-env=KEY=VALUE   Add to every app's environment (repeatable; an\n"
          "                           app's own -e wins)\n\n"
          "App options (after an IMAGE, for that app):\n"
          "     --app-name=NAME       Name of the app (default: from the image's name)\n"
          "     --exec=PATH           Run PATH instead of the image's entrypoint and cmd;\n"
          "                           ARGS become its arguments\n"
          "  -e --set-env=KEY=VALUE   Add to the app's environment (repeatable)\n"
          "  -v --volume=HOSTPATH:TARGET[:ro|rw|rslave|rshared]\n"
          "                           Mount a host path in this app (a host volume of the pod)\n"
          "     --working-dir=DIR     Working directory of the app (absolute)\n"
          "     --user=USER           Run as USER (id or name in the image's /etc/passwd;\n"
          "                           default: the image's User, else root)\n"
          "     --group=GROUP         Primary group (id or name in the image's /etc/group)\n"
          "     --supplementary-groups=GROUP[,GROUP...]\n"
          "                           Add these groups to the user's own\n"
          "     --caps-retain=CAP[,CAP...]\n"
          "                           Exactly these capabilities (a non-root user keeps them)\n"
          "     --caps-remove=CAP[,CAP...]\n"
          "                           The default capabilities (docker's but NET_RAW;\n"
          "                           in fly pods KILL, SETUID, SYS_CHROOT too) without these\n"
          "     --no-new-privileges=BOOL\n"
          "                           Set no_new_privs (default true; false lets setuid\n"
          "                           and file capabilities work)\n"
          "     --seccomp=SPEC        'default' (a denylist), 'unconfined',\n"
          "                           'mode=remove,SYSCALL,...' or 'mode=retain,SYSCALL,...'\n"
          "     --readonly-rootfs[=BOOL]\n"
          "                           Mount the app's root file system read-only\n"
          "     --privileged[=BOOL]   Run the app as the host's root: every capability, no\n"
          "                           seccomp filter, the host's devices, /proc unmasked,\n"
          "                           /sys writable (needs org.peapod1.run-privileged)\n"
          "     --pid-namespace=pod|app\n"
          "                           Share the pod's PID namespace (default) or have one\n"
          "                           of its own\n"
          "     --device=HOST[:CONTAINER[:PERMISSIONS]]\n"
          "                           Give the app the host's device node HOST at CONTAINER\n"
          "                           (default HOST), below /dev, with PERMISSIONS, some of\n"
          "                           r, w and m (default rwm) (repeatable)\n"
          "     --masked-path=PATH    Cover PATH inside the app with /dev/null (a file) or\n"
          "                           an empty read-only tmpfs (a directory) (repeatable)\n"
          "     --readonly-path=PATH  Make PATH inside the app read-only (repeatable)\n"
          "     --ipc-namespace=pod|app\n"
          "                           Share the pod's IPC namespace (default) or have one\n"
          "                           of its own\n"
          "     --restart=no|on-failure|always\n"
          "                           Start the app again when it exits: never (default),\n"
          "                           after a failure (not 0, or a signal), or always\n"
          "     --cpu=QUOTA           CPU time limit: 500m (millicores) or 2 (CPUs)\n"
          "     --cpu-shares=N        Relative CPU weight, 2-262144 (1024 is one share)\n"
          "     --memory=SIZE         Memory limit, e.g. 64M or 1G\n"
          "     --tasks-max=N         Limit on processes and threads\n"
          "     --mount=volume=NAME,target=PATH\n"
          "                           Mount the pod's volume NAME at PATH in the app\n\n"
          "ARGS after '--' replace the image's cmd (its entrypoint is kept), and run\n"
          "up to the next '---', which starts the next app. '--' followed by nothing\n"
          "keeps the image's cmd.\n" },
        { "list", verb_list, "List pods",
          "peapod list [--format=table|json] [--no-legend]\n\n"
          "List all pods.\n\n"
          "Options:\n"
          "  -h --help                Show this help\n"
          "     --format=FORMAT       'table' (default) or 'json'\n"
          "     --no-legend           Print neither the header nor the footer of the table\n" },
        { "status", verb_status, "Show a pod and its apps",
          "peapod status [--format=text|json] POD\n\n"
          "Show the state of a pod and how each of its apps is doing or ended.\n"
          "POD is a pod's name, id, or a unique prefix of at least 4 digits of its id.\n\n"
          "Options:\n"
          "  -h --help                Show this help\n"
          "     --format=FORMAT       'text' (default) or 'json'\n" },
        { "start", verb_start, "Start created or exited pods",
          "peapod start POD...\n\n"
          "Start pods that were created but never started (or failed to start), or\n"
          "that have exited: their apps start over, each with its files as it left them.\n\n"
          "Options:\n"
          "  -h --help                Show this help\n" },
        { "stop", verb_stop, "Stop running pods",
          "peapod stop POD...\n\n"
          "Stop all apps of each pod and the pod itself; the pod is kept, as 'exited'.\n\n"
          "Options:\n"
          "  -h --help                Show this help\n" },
        { "wait", verb_wait, "Wait for a pod to end and print its exit status",
          "peapod wait POD\n\n"
          "Wait until the pod has ended (all its apps have exited, or it was stopped),\n"
          "then print its exit status as 'run' reports it: that of the first app that\n"
          "did not exit 0 (128+N when signal N killed it), or 0.\n\n"
          "Options:\n"
          "  -h --help                Show this help\n" },
        { "kill", verb_kill, "Send a signal to a pod's apps",
          "peapod kill [--signal=SIG] POD [APP]\n\n"
          "Send SIG (default KILL) to every running app of the pod, or to APP. The\n"
          "signals an app's stage1 helper passes on (TERM, INT, HUP, QUIT, USR1, USR2)\n"
          "reach the app's main process; others reach every process of the app.\n\n"
          "Options:\n"
          "  -h --help                Show this help\n"
          "  -s --signal=SIG          A name (TERM, SIGHUP) or a number (default KILL)\n" },
        { "rm", verb_rm, "Remove pods",
          "peapod rm [--force] POD...\n\n"
          "Remove pods that are not running, and everything they have on disk.\n\n"
          "Options:\n"
          "  -h --help                Show this help\n"
          "  -f --force               Stop running pods first\n" },
        { "logs", verb_logs, "Show the output of a pod's apps",
          "peapod logs [OPTIONS] POD [APP]\n\n"
          "Print what the apps of POD (or only APP, by name) wrote, from the journal\n"
          "namespace 'peapod', in time order: lines written to stdout go to stdout,\n"
          "lines written to stderr go to stderr. With several apps each line starts\n"
          "with 'APP | '. Logs stay readable after the pod exited, and those of an app\n"
          "removed with 'app rm' too, until the pod is removed.\n"
          "Control characters in the apps' lines are shown escaped ('\\x1b', '\\r'),\n"
          "so that no app can draw over another's lines or drive the terminal.\n"
          "Reading them needs root or membership in the 'systemd-journal' group.\n\n"
          "Options:\n"
          "  -h --help                Show this help\n"
          "  -f --follow              Keep printing new lines until the pod exits\n"
          "  -n --tail=N              Print only the last N lines (--lines=N too)\n"
          "     --since=TIME          Only lines written at or after TIME\n"
          "     --until=TIME          Only lines written at or before TIME\n"
          "  -t --timestamps          Start each line with its time (RFC 3339, UTC)\n"
          "     --stdout              Only what the apps wrote to stdout\n"
          "     --stderr              Only what the apps wrote to stderr\n"
          "     --format=FORMAT       'text' (default) or 'json' (one object per line:\n"
          "                           time, stream, app, app_id, message, partial)\n"
          "     --cri-format          Print the lines as a CRI log file has them\n"
          "                           (escaped as text only on a terminal)\n"
          "     --no-prefix           Never prefix lines with the app's name\n"
          "     --raw                 Print the apps' bytes unescaped (text, CRI)\n\n"
          "TIME is 'YYYY-MM-DD [HH:MM[:SS]]' (local time), RFC 3339\n"
          "('2026-11-23T12:00:00Z', '...+01:00'), 'now', 'today', 'yesterday',\n"
          "'@UNIX-SECONDS', or relative: '-5m', '10s ago', '1h30m ago'\n"
          "(units s, m, h, d, w, ms, us).\n" },
        { "pod", verb_pod, "Create an empty pod that waits for apps",
          "peapod pod create [--name=NAME] [--stage1=FLAVOUR] [--volume=VOLUME]... [--net=NETWORKS]\n"
          "                  [--port=PORT]... [--dns=IP]... [--dns-search=DOMAIN]... [--hostname=NAME] [--quiet]\n\n"
          "Create a pod without apps, start it and print its id. Unlike a pod made by\n"
          "'peapod run', it keeps running when it has no running app, until it is\n"
          "stopped; add apps with 'peapod app add'.\n\n"
          "Options:\n"
          "  -h --help                Show this help\n"
          "     --name=NAME           Name of the pod (default: pod-<first 8 digits of its id>)\n"
          "     --stage1=FLAVOUR      The pod's stage1: 'default' or 'fly'\n"
          "     --volume=NAME,kind=host|empty|tmpfs[,...]\n"
          "                           A volume of the pod, as for 'peapod run'; its apps\n"
          "                           mount it with 'app add ... --mount='\n"
          "     --net=NETWORKS        The pod's networks, as for 'peapod run'\n"
          "     --port=[IP:]HOSTPORT:PODPORT[/tcp|udp]\n"
          "                           Publish a pod port on the host (repeatable)\n"
          "     --dns=IP              Name server in the pod's /etc/resolv.conf (repeatable)\n"
          "     --dns-search=DOMAIN   Search domain in the pod's /etc/resolv.conf (repeatable)\n"
          "     --hostname=NAME       The pod's hostname (default: the pod's name)\n"
          "  -q --quiet               Do not print the pod's id\n" },
        { "app", verb_app, "Add, start, stop, remove and show the apps of a pod",
          "peapod app add [--name=NAME] [--start] [--quiet] POD IMAGE [APP-OPTIONS] [-- ARGS...]\n"
          "peapod app start POD APP...\n"
          "peapod app stop POD APP...\n"
          "peapod app rm [--force] POD APP...\n"
          "peapod app list [--format=table|json] [--no-legend] POD\n"
          "peapod app status [--format=text|json] POD APP\n\n"
          "add adds an app of IMAGE (from the image store) to a created or running\n"
          "pod, in state 'created', and prints its name; with --start it is started\n"
          "at once. APP-OPTIONS and ARGS are those of an app of 'peapod run'.\n"
          "start starts a created or exited app of a running pod (a restarted app\n"
          "keeps what it wrote); stop stops a running app and leaves the pod and the\n"
          "other apps running (a pod made by 'peapod run' still ends with its last\n"
          "app); rm removes apps that are not running, with their files.\n"
          "list and status show each app's state, main pid, exit status and times.\n"
          "APP is an app's name or id.\n\n"
          "Options:\n"
          "  -h --help                Show this help\n"
          "     --name=NAME           add: name of the app (default: from the image's name)\n"
          "     --start               add: start the app once added\n"
          "  -q --quiet               add: do not print the app's name\n"
          "  -f --force               rm: stop running apps first\n"
          "     --format=FORMAT       list: 'table' (default) or 'json';\n"
          "                           status: 'text' (default) or 'json'\n"
          "     --no-legend           list: print neither the header nor the footer\n" },
        { "gc", verb_gc, "Remove pods that exited a while ago",
          "peapod gc [--grace-period=SPAN] [--format=text|json]\n\n"
          "Remove every pod that has been exited for longer than the grace period,\n"
          "with everything it has on disk, and print what was removed. Running and\n"
          "created pods are never touched. peapod-gc.timer runs this hourly when\n"
          "enabled.\n\n"
          "Options:\n"
          "  -h --help                Show this help\n"
          "     --grace-period=SPAN   How long a pod stays after it exited: 30m (the\n"
          "                           default), 1h, 2d, 90s; 0 removes every exited pod\n"
          "     --format=FORMAT       'text' (default) or 'json'\n" },
        { "enter", verb_enter, "Run a command inside a running app",
          "peapod enter [--app=APP] [--tty] POD [-- CMD [ARGS...]]\n\n"
          "Run CMD (default: /bin/sh) inside APP of POD (default: the pod's only\n"
          "running app): in its namespaces and root, as its user, with its groups,\n"
          "capabilities and no-new-privs, never more. Exits with CMD's exit status\n"
          "(128+N when signal N killed it). stdin, stdout and stderr are passed on\n"
          "as they are, so CMD's stdout and stderr stay apart, except that a\n"
          "terminal never is: each one that is a terminal is relayed through a\n"
          "pipe, and CMD gets no terminal unless -t gives it one of its own.\n\n"
          "Options:\n"
          "  -h --help                Show this help\n"
          "     --app=APP             The app to enter, by name or id\n"
          "  -t --tty                 Give CMD a pseudo-terminal (for a shell)\n" },
        { "image", verb_image, "Pull, list, inspect, tag, remove, import and export images",
          "peapod image pull [--quiet] [--insecure-options=image] REFERENCE\n"
          "peapod image list [--format=table|json] [--no-legend]\n"
          "peapod image inspect IMAGE\n"
          "peapod image tag IMAGE REFERENCE\n"
          "peapod image rm [--force] IMAGE...\n"
          "peapod image import [--name=REFERENCE] [--quiet] [--insecure-options=image] FILE|-\n"
          "peapod image export [--format=oci|docker-archive] [--quiet] IMAGE FILE|-\n"
          "peapod image gc\n"
          "peapod image sign --sign-by=FINGERPRINT [--lookaside=DIR]\n"
          "                  [--manifest-digest=DIGEST] REFERENCE\n\n"
          "pull fetches REFERENCE from its registry into the image store, showing\n"
          "progress, and prints the image's id. list shows the stored images with\n"
          "their names. inspect prints an image's config as JSON. IMAGE is a name,\n"
          "an id or a unique prefix of at least 12 digits of an id.\n"
          "tag gives IMAGE another name (a short name becomes localhost/NAME:TAG).\n"
          "rm removes the name IMAGE, or all names when IMAGE is an id; an image\n"
          "without names is deleted, but never what a pod uses: its last name is\n"
          "only removed with --force, and the pod keeps its layers.\n"
          "import reads an OCI or docker-archive tarball (FILE, or stdin for '-')\n"
          "and prints the ids of its images; export writes one (to stdout for '-').\n"
          "gc deletes what no name and no pod reaches and says how much it freed.\n"
          "Pulls and imports are checked against the trust policy (peapod-policy.json(5)).\n"
          "sign writes a simple-signing signature of REFERENCE's manifest, made with\n"
          "a secret key of your own GnuPG keyring, into a lookaside directory.\n\n"
          "Options:\n"
          "  -h --help                Show this help\n"
          "  -q --quiet               pull, import, export: show no progress;\n"
          "                           pull, import: do not print the ids\n"
          "     --format=FORMAT       list: 'table' (default) or 'json';\n"
          "                           export: 'oci' (default) or 'docker-archive'\n"
          "     --no-legend           list: print neither the header nor the footer\n"
          "  -f --force               rm: remove the last name of an image pods use\n"
          "     --name=REFERENCE      import: the name to give the (single) image,\n"
          "                           instead of the names in the archive\n"
          "     --insecure-options=image\n"
          "                           pull, import: accept images the trust policy would\n"
          "                           refuse, with a warning (this command only)\n"
          "     --sign-by=FINGERPRINT sign: the secret key to sign with\n"
          "     --lookaside=DIR       sign: where to write (default: the registry's\n"
          "                           file:// lookaside in registries.conf)\n"
          "     --manifest-digest=DIGEST\n"
          "                           sign: the digest to sign (default: the stored\n"
          "                           image's manifest)\n" },
        { "login", verb_login, "Save credentials for a registry",
          "peapod login [--username=USER] [--password-stdin] [--no-check] REGISTRY\n\n"
          "Save USER's password for REGISTRY (HOST[:PORT]) in the auth file that pulls\n"
          "read: registries.conf's \"auth-file\", else /etc/peapod/auth.json, written\n"
          "0600 in docker's config.json form. The password is asked for with echo off,\n"
          "or read from stdin with --password-stdin; never give it as an argument.\n"
          "The credentials are first checked with the registry (GET /v2/).\n\n"
          "Options:\n"
          "  -h --help                Show this help\n"
          "  -u --username=USER       The user name (asked for when not given)\n"
          "     --password-stdin      Read the password from stdin (one line; needs --username)\n"
          "     --no-check            Save the credentials without asking the registry\n" },
        { "logout", verb_logout, "Remove the credentials for a registry",
          "peapod logout REGISTRY\n"
          "peapod logout --all\n\n"
          "Remove REGISTRY's credentials from the auth file, or, with --all, every\n"
          "registry's; other keys of the file are kept.\n\n"
          "Options:\n"
          "  -h --help                Show this help\n"
          "     --all                 Remove the credentials of every registry\n" },
        { "trust", verb_trust, "Manage the keys trusted to sign images",
          "peapod trust add (--prefix=PREFIX | --root) [--yes] KEYFILE\n"
          "peapod trust list [--format=table|json] [--no-legend]\n"
          "peapod trust rm FINGERPRINT...\n\n"
          "add shows the key's fingerprint and user id, asks, and trusts the key for\n"
          "images at or below PREFIX (registry[:port][/path]), or for every image\n"
          "with --root. list shows the trusted keys. rm stops trusting keys.\n\n"
          "Options:\n"
          "  -h --help                Show this help\n"
          "     --prefix=PREFIX       add: trust the key for this registry/repository prefix\n"
          "     --root                add: trust the key for every image\n"
          "  -y --yes                 add: do not ask (needed when stdin is not a terminal)\n"
          "     --format=FORMAT       list: 'table' (default) or 'json'\n"
          "     --no-legend           list: print neither the header nor the footer\n" },
};

static const Verb *find_verb(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(verbs[i].name, name))
                        return &verbs[i];
        return NULL;
}

void verb_help(const char *name) {
        const Verb *v = find_verb(name);

        if (v)
                printf("Usage: %s", v->usage);
}

static void help(void) {
        printf("Usage: peapod [--help] [--version] VERB [ARGS...]\n\n"
               "Manage pods: groups of apps that systemd runs as one machine.\n\n"
               "Verbs:\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                printf("  %-8s %s\n", verbs[i].name, verbs[i].summary);
        printf("\nOptions:\n"
               "  -h --help       Show this help\n"
               "     --version    Show the version\n\n"
               "'peapod VERB --help' describes each verb. See peapod(1).\n");
}

int main(int argc, char *argv[]) {
        enum { ARG_VERSION = 0x100 };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                {}
        };
        const Verb *v;
        int c, r;

        log_set_program("peapod");
        trace_point("cli-main");
        cli_argv = argv;
        (void) setlocale(LC_ALL, "");

        /* '+': options end at the verb; what follows is the verb's. */
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return EXIT_SUCCESS;
                case ARG_VERSION:
                        printf("peapod %s\n", PACKAGE_VERSION);
                        return EXIT_SUCCESS;
                default:
                        log_error("Unknown option '%s'; see 'peapod --help'.", argv[optind - 1]);
                        return 2;
                }

        if (optind >= argc) {
                log_error("Missing verb; see 'peapod --help'.");
                return 2;
        }
        v = find_verb(argv[optind]);
        if (!v) {
                const char *names[ELEMENTSOF(verbs)], *hint;
                bool alias;

                for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                        names[i] = verbs[i].name;
                hint = verb_suggestion(argv[optind], names, ELEMENTSOF(verbs), &alias);
                if (hint && alias)
                        log_error("Unknown verb '%s'; peapod's is '%s'. See 'peapod --help'.", argv[optind], hint);
                else if (hint)
                        log_error("Unknown verb '%s'; did you mean '%s'? See 'peapod --help'.", argv[optind], hint);
                else
                        log_error("Unknown verb '%s'; see 'peapod --help'.", argv[optind]);
                return 2;
        }

        /* Each verb parses its own options with getopt again, from its
         * name on (getopt skips argv[0]); 0 also resets getopt's state. */
        c = optind;
        optind = 0;
        r = v->run(argc - c, argv + c);
        trace_point("cli-verb-end");
        if (r < 0)
                return cli_usage_failed ? 2 : EXIT_FAILURE;
        return cli_exit_status >= 0 ? cli_exit_status : EXIT_SUCCESS;
}
