/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* peapod login / logout: credentials for a registry in the auth file that
 * peapodd's pulls read (registries.conf's "auth-file", else
 * /etc/peapod/auth.json), in docker's config.json form.
 *
 * The password never passes through argv (other users read it in ps and
 * /proc/PID/cmdline), is never echoed or logged, and is wiped from our
 * memory after use. It is written by this process, as root, straight into
 * the file: peapodd never sees it over the bus. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "reference.h"
#include "registry.h"
#include "string-util.h"

/* Longer than any password or token a registry hands out. */
#define SECRET_MAX 8192

static void secret_freep(char **p) {
        if (*p) {
                explicit_bzero(*p, strlen(*p));
                free(*p);
        }
}
#define _cleanup_secret_ _cleanup_(secret_freep)

/* The terminal as it was before echo was turned off, for a signal that
 * ends us at the prompt: a shell left without echo looks broken. */
static struct termios saved_termios;
static volatile sig_atomic_t termios_saved;

static void restore_terminal_and_die(int sig) {
        if (termios_saved)
                (void) tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_termios);
        (void) signal(sig, SIG_DFL);
        (void) raise(sig);
}

/* One line from fd, at most SECRET_MAX bytes, without its line end. */
static int read_line(int fd, bool whole_input, char **ret) {
        _cleanup_secret_ char *buf = calloc(1, SECRET_MAX + 2);
        size_t n = 0;

        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t k;

                if (n > SECRET_MAX)
                        return -E2BIG;
                k = read(fd, buf + n, whole_input ? SECRET_MAX + 1 - n : 1);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                if (!whole_input && buf[n] == '\n')
                        break;
                n += (size_t) k;
        }
        if (n > SECRET_MAX)
                return -E2BIG;
        /* docker's --password-stdin drops the line end that echo and a
         * file add. */
        if (n > 0 && buf[n - 1] == '\n')
                n--;
        if (n > 0 && buf[n - 1] == '\r')
                n--;
        buf[n] = 0;
        if (memchr(buf, 0, n))
                return -EBADMSG;
        *ret = TAKE_PTR(buf);
        return 0;
}

/* Ask on the terminal that stdin is, echo off for a secret. */
static int prompt(const char *question, bool secret, char **ret) {
        struct sigaction sa = { .sa_handler = restore_terminal_and_die }, old_int, old_term, old_hup;
        struct termios t;
        int r;

        if (!isatty(STDIN_FILENO))
                return -ENOTTY;
        if (!secret) {
                fprintf(stderr, "%s", question);
                fflush(stderr);
                return read_line(STDIN_FILENO, false, ret);
        }

        if (tcgetattr(STDIN_FILENO, &saved_termios) < 0)
                return -errno;
        (void) sigaction(SIGINT, &sa, &old_int);
        (void) sigaction(SIGTERM, &sa, &old_term);
        (void) sigaction(SIGHUP, &sa, &old_hup);
        termios_saved = 1;
        t = saved_termios;
        t.c_lflag &= ~(tcflag_t) ECHO;
        t.c_lflag |= ECHONL;
        /* The prompt only once echo is off: what is typed after it must
         * neither show nor be flushed away with the typeahead. */
        if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &t) < 0)
                r = -errno;
        else {
                fprintf(stderr, "%s", question);
                fflush(stderr);
                r = read_line(STDIN_FILENO, false, ret);
        }
        (void) tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_termios);
        termios_saved = 0;
        (void) sigaction(SIGINT, &old_int, NULL);
        (void) sigaction(SIGTERM, &old_term, NULL);
        (void) sigaction(SIGHUP, &old_hup, NULL);
        return r;
}

static bool has_control_chars(const char *s) {
        for (; *s; s++)
                if ((unsigned char) *s < ' ' || *s == 0x7f)
                        return true;
        return false;
}

static int load_conf(RegistriesConf **ret) {
        PeapodError e = {};
        int r;

        r = registries_conf_load(NULL, ret, &e);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0)
                return log_error_errno(r, "%s", e.message[0] ? e.message : "Failed to read registries.conf");
        return 0;
}

static int log_auth_file_error(int r, const PeapodError *e) {
        /* The file holds root's registry passwords: only root changes it. */
        return log_error_errno(r, "%s%s", e->message[0] ? e->message : strerror(-r),
                               r == -EACCES && geteuid() != 0 ? " (run it as root)" : "");
}

static int parse_registry(const char *arg, char **ret) {
        if (auth_registry_normalize(arg, ret) < 0)
                return log_usage_error("Invalid registry '%s': expected HOST[:PORT], such as registry.example.com "
                                       "or 127.0.0.1:5000.", arg);
        return 0;
}

/* The user name (asked on the terminal unless given) and the password
 * (asked, or one line of stdin): checked, never taken from an argument. */
static int login_read_credentials(bool password_stdin, char **username, char **ret_password) {
        _cleanup_secret_ char *password = NULL;
        int r;

        if (!*username) {
                r = prompt("Username: ", false, username);
                if (r == -ENOTTY)
                        return log_usage_error("stdin is not a terminal to ask for the user name: give --username.");
                if (r < 0)
                        return log_error_errno(r, "Failed to read the user name: %m");
        }
        if (isempty(*username) || strchr(*username, ':') || has_control_chars(*username))
                return log_usage_error("Invalid user name: empty, or with ':' or control characters.");

        if (password_stdin)
                r = read_line(STDIN_FILENO, true, &password);
        else {
                r = prompt("Password: ", true, &password);
                if (r == -ENOTTY)
                        return log_usage_error("stdin is not a terminal to ask for the password: pipe it in with "
                                               "--password-stdin (never as an argument).");
        }
        if (r == -E2BIG)
                return log_error_errno(r, "The password is longer than %d bytes.", SECRET_MAX);
        if (r == -EBADMSG)
                return log_error_errno(r, "The password contains a NUL byte.");
        if (r < 0)
                return log_error_errno(r, "Failed to read the password: %m");
        if (isempty(password))
                return log_error_errno(EINVAL, "Empty password: nothing saved.");
        *ret_password = TAKE_PTR(password);
        return 0;
}

/* The registry accepts these credentials, before they are saved. */
static int login_check(const RegistriesConf *conf, char *registry, char *username, char *password) {
        _cleanup_(registry_client_freep) RegistryClient *client = NULL;
        AuthEntry entry = { .registry = registry, .username = username, .password = password };
        AuthFile auth = { .entries = &entry, .n_entries = 1 };
        PeapodError e = {};
        int r;

        r = registry_client_new(&(RegistryClientOptions) { .config = conf, .auth = &auth, .max_tries = 2 }, &client);
        if (r < 0)
                return log_error_errno(r, "Failed to set up a registry client: %m");
        r = registry_check_login(client, registry, &e);
        if (r == -EACCES)
                return log_error_errno(r, "Login to %s failed, nothing saved: %s", registry, e.message);
        if (r < 0)
                return log_error_errno(r, "Cannot check the credentials with %s, nothing saved: %s "
                                       "(--no-check saves them unchecked)",
                                       registry, e.message[0] ? e.message : strerror(-r));
        return 0;
}

int verb_login(int argc, char *argv[]) {
        enum { ARG_PASSWORD_STDIN = 0x100, ARG_NO_CHECK };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "username", required_argument, NULL, 'u' },
                { "password-stdin", no_argument, NULL, ARG_PASSWORD_STDIN },
                { "no-check", no_argument, NULL, ARG_NO_CHECK },
                {}
        };
        _cleanup_(registries_conf_freep) RegistriesConf *conf = NULL;
        _cleanup_free_ char *registry = NULL, *username = NULL;
        _cleanup_secret_ char *password = NULL;
        bool password_stdin = false, check = true;
        const char *path;
        PeapodError e = {};
        int c, r;

        while ((c = getopt_long(argc, argv, ":hu:", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        verb_help("login");
                        return 0;
                case 'u':
                        free(username);
                        username = strdup(optarg);
                        if (!username)
                                return log_oom();
                        break;
                case ARG_PASSWORD_STDIN:
                        password_stdin = true;
                        break;
                case ARG_NO_CHECK:
                        check = false;
                        break;
                default:
                        return cli_getopt_error(c, argv);
                }
        if (argc - optind != 1)
                return log_usage_error("'peapod login' takes one registry; see 'peapod login --help'.");
        r = parse_registry(argv[optind], &registry);
        if (r < 0)
                return r;
        if (password_stdin && !username)
                return log_usage_error("--password-stdin needs --username.");
        r = load_conf(&conf);
        if (r < 0)
                return r;
        path = registries_conf_auth_file(conf);

        r = login_read_credentials(password_stdin, &username, &password);
        if (r < 0)
                return r;
        if (check) {
                r = login_check(conf, registry, username, password);
                if (r < 0)
                        return r;
        }

        r = auth_file_update(path, registry, username, password, &e);
        if (r < 0)
                return log_auth_file_error(r, &e);
        printf("Login to %s %s; saved in %s.\n", registry, check ? "succeeded" : "saved unchecked", path);
        return 0;
}

int verb_logout(int argc, char *argv[]) {
        enum { ARG_ALL = 0x100 };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "all", no_argument, NULL, ARG_ALL },
                {}
        };
        _cleanup_(registries_conf_freep) RegistriesConf *conf = NULL;
        _cleanup_free_ char *registry = NULL;
        PeapodError e = {};
        bool all = false;
        const char *path;
        int c, r;

        while ((c = getopt_long(argc, argv, ":h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        verb_help("logout");
                        return 0;
                case ARG_ALL:
                        all = true;
                        break;
                default:
                        return cli_getopt_error(c, argv);
                }
        if (all ? argc - optind != 0 : argc - optind != 1)
                return log_usage_error("'peapod logout' takes one registry, or --all; see 'peapod logout --help'.");
        if (!all) {
                r = parse_registry(argv[optind], &registry);
                if (r < 0)
                        return r;
        }
        r = load_conf(&conf);
        if (r < 0)
                return r;
        path = registries_conf_auth_file(conf);

        r = auth_file_update(path, registry, NULL, NULL, &e);
        if (r < 0)
                return log_auth_file_error(r, &e);
        if (r == 0 && !all)
                return log_error_errno(ENOENT, "Not logged in to %s (no entry in %s).", registry, path);
        if (all)
                printf("Removed the credentials of every registry from %s.\n", path);
        else
                printf("Removed the credentials of %s from %s.\n", registry, path);
        return 0;
}
