/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* peapod-cri: serves the CRI to kubelet on a unix socket; a plain D-Bus
 * client of peapodd (cri.c). */
#include <errno.h>
#include <arpa/inet.h>
#include <getopt.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "cri.h"
#include "fs-util.h"
#include "log.h"

static const char *arg_listen = CRI_SOCKET_PATH;
static const char *arg_streaming_address = STREAM_DEFAULT_ADDRESS;
static uint16_t arg_streaming_port = 0;
static uint64_t arg_streaming_token_usec = STREAM_TOKEN_USEC;

static void help(void) {
        printf("Usage: peapod-cri [OPTIONS]\n\n"
               "Serve the Kubernetes Container Runtime Interface (runtime.v1 and v1alpha2\n"
               "over gRPC) on a unix socket, backed by peapodd.\n\n"
               "  -h --help              Show this help\n"
               "     --version           Show the version\n"
               "     --listen=PATH       The socket to serve when not socket-activated\n"
               "                         (default: %s)\n"
               "     --streaming-address=ADDR\n"
               "                         Serve exec and port-forward streams on this IP\n"
               "                         address (default: %s)\n"
               "     --streaming-port=PORT\n"
               "                         ... and this TCP port (default: 0, a free one)\n"
               "     --streaming-token-timeout=SECONDS\n"
               "                         How long an exec or port-forward URL stays good\n"
               "                         (default: 60)\n",
               CRI_SOCKET_PATH, STREAM_DEFAULT_ADDRESS);
}

static int parse_argv(int argc, char *argv[]) {
        enum { ARG_VERSION = 0x100, ARG_LISTEN, ARG_STREAMING_ADDRESS, ARG_STREAMING_PORT, ARG_STREAMING_TOKEN_TIMEOUT };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "listen", required_argument, NULL, ARG_LISTEN },
                { "streaming-address", required_argument, NULL, ARG_STREAMING_ADDRESS },
                { "streaming-port", required_argument, NULL, ARG_STREAMING_PORT },
                { "streaming-token-timeout", required_argument, NULL, ARG_STREAMING_TOKEN_TIMEOUT },
                {},
        };
        int c;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("peapod-cri %s\n", PACKAGE_VERSION);
                        return 0;
                case ARG_LISTEN:
                        if (optarg[0] != '/' || strlen(optarg) >= sizeof(((struct sockaddr_un *) NULL)->sun_path))
                                return log_error_errno(EINVAL, "--listen= wants an absolute path shorter than 108 bytes.");
                        arg_listen = optarg;
                        break;
                case ARG_STREAMING_ADDRESS: {
                        struct in6_addr a;

                        if (inet_pton(AF_INET, optarg, &a) != 1 && inet_pton(AF_INET6, optarg, &a) != 1)
                                return log_error_errno(EINVAL, "--streaming-address= wants an IPv4 or IPv6 address.");
                        arg_streaming_address = optarg;
                        break;
                }
                case ARG_STREAMING_PORT: {
                        char *end;
                        unsigned long p;

                        errno = 0;
                        p = strtoul(optarg, &end, 10);
                        if (errno != 0 || end == optarg || *end || p > 65535)
                                return log_error_errno(EINVAL, "--streaming-port= wants a port number (0-65535).");
                        arg_streaming_port = p;
                        break;
                }
                case ARG_STREAMING_TOKEN_TIMEOUT: {
                        char *end;
                        unsigned long t;

                        errno = 0;
                        t = strtoul(optarg, &end, 10);
                        if (errno != 0 || end == optarg || *end || t == 0 || t > 3600)
                                return log_error_errno(EINVAL, "--streaming-token-timeout= wants 1-3600 seconds.");
                        arg_streaming_token_usec = t * 1000000ULL;
                        break;
                }
                default:
                        return -EINVAL;
                }
        if (optind < argc)
                return log_error_errno(EINVAL, "peapod-cri takes no arguments.");
        return 1;
}

/* Our own socket, when systemd passed none. Only root (and what root
 * grants by changing the mode) may talk to it: the CRI runs containers. */
static int listen_socket(const char *path, int *ret_fd) {
        _cleanup_free_ char *dir = strdup(path);
        _cleanup_close_ int fd = -EBADF;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        struct stat st;
        mode_t old;
        int r;

        if (!dir)
                return -ENOMEM;
        r = mkdir_p(dirname(dir), 0755);
        if (r < 0)
                return r;
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        strncpy(sa.sun_path, path, sizeof(sa.sun_path) - 1);
        /* A socket left by an earlier run is replaced; one that somebody
         * still serves is not, nor is anything that is no socket. */
        if (lstat(path, &st) >= 0) {
                _cleanup_close_ int probe = -EBADF;

                if (!S_ISSOCK(st.st_mode))
                        return -EEXIST;
                probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (probe < 0)
                        return -errno;
                if (connect(probe, (struct sockaddr *) &sa, sizeof(sa)) >= 0)
                        return -EADDRINUSE;
                if (unlink(path) < 0)
                        return -errno;
        }
        old = umask(0177);
        r = RET_NERRNO(bind(fd, (struct sockaddr *) &sa, sizeof(sa)));
        umask(old);
        if (r < 0)
                return r;
        if (listen(fd, SOMAXCONN) < 0)
                return -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int main(int argc, char *argv[]) {
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        _cleanup_(cri_freep) Cri *cri = NULL;
        bool own_socket = false;
        sigset_t ss;
        int n, r;

        log_set_program("peapod-cri");
        r = parse_argv(argc, argv);
        if (r <= 0)
                return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;

        sigemptyset(&ss);
        sigaddset(&ss, SIGTERM);
        sigaddset(&ss, SIGINT);
        sigprocmask(SIG_BLOCK, &ss, NULL);
        /* Writes to a client that went away fail with EPIPE (MSG_NOSIGNAL);
         * the bus connection's writes must not kill us either. */
        signal(SIGPIPE, SIG_IGN);

        r = sd_event_default(&event);
        if (r < 0)
                return log_error_errno(r, "Failed to allocate the event loop: %m"), EXIT_FAILURE;
        (void) sd_event_add_signal(event, NULL, SIGTERM, NULL, NULL);
        (void) sd_event_add_signal(event, NULL, SIGINT, NULL, NULL);

        r = cri_new(event, &cri);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the CRI server: %m"), EXIT_FAILURE;

        r = stream_server_new(cri, arg_streaming_address, arg_streaming_port, arg_streaming_token_usec,
                              &cri->streaming);
        if (r < 0)
                return log_error_errno(r, "Failed to listen for streams on %s port %u: %m", arg_streaming_address,
                                       arg_streaming_port), EXIT_FAILURE;

        n = sd_listen_fds(true);
        if (n < 0)
                return log_error_errno(n, "Failed to read the sockets passed by systemd: %m"), EXIT_FAILURE;
        for (int fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + n; fd++) {
                if (sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) <= 0)
                        return log_error_errno(EINVAL, "Passed fd %d is not a listening unix stream socket.", fd),
                               EXIT_FAILURE;
                r = grpc_server_add_listener(cri->server, fd);
                if (r < 0)
                        return log_error_errno(r, "Failed to serve passed fd %d: %m", fd), EXIT_FAILURE;
        }
        if (n == 0) {
                int fd = -EBADF;

                r = listen_socket(arg_listen, &fd);
                if (r < 0)
                        return log_error_errno(r, "Failed to listen on %s: %m", arg_listen), EXIT_FAILURE;
                own_socket = true;
                r = grpc_server_add_listener(cri->server, fd);
                if (r < 0)
                        return log_error_errno(r, "Failed to serve %s: %m", arg_listen), EXIT_FAILURE;
        }

        (void) sd_notify(false, "READY=1\nSTATUS=Serving the CRI");
        log_info("peapod-cri %s serving the CRI on %s, streams on %s port %u.", PACKAGE_VERSION,
                 n > 0 ? "the sockets passed by systemd" : arg_listen, arg_streaming_address,
                 stream_server_port(cri->streaming));
        r = sd_event_loop(event);
        (void) sd_notify(false, "STOPPING=1");
        if (own_socket)
                (void) unlink(arg_listen);
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m"), EXIT_FAILURE;
        return EXIT_SUCCESS;
}
