/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The parts of the default stage1 flavour that need no privileges: argument
 * parsing, validation and matching. Kept apart so test-stage1 can check
 * them as an ordinary user. */

#include <stdbool.h>
#include <sys/types.h>

#include "app-spec.h"
#include "fs-util.h"
#include "io-util.h"
#include "macro.h"
#include "stage1-credentials.h"
#include "stage1-security.h"
#include "valid-util.h"

#define STAGE1_CONTRACT_VERSION 4

/* Exit codes of peapod-stage1-init; each failed step has its own so that
 * peapodd (and a human) can tell from the status alone what broke. */
enum {
        STAGE1_INIT_EXIT_USAGE = 2,
        STAGE1_INIT_EXIT_NAMESPACES = 10,
        STAGE1_INIT_EXIT_FORK = 11,
        STAGE1_INIT_EXIT_PROPAGATION = 12,
        STAGE1_INIT_EXIT_ROOT_TMPFS = 13,
        STAGE1_INIT_EXIT_ROOT_POPULATE = 14,
        STAGE1_INIT_EXIT_PROC = 15,
        STAGE1_INIT_EXIT_PIVOT = 16,
        STAGE1_INIT_EXIT_HOSTNAME = 17,
        STAGE1_INIT_EXIT_LOOPBACK = 18,
        STAGE1_INIT_EXIT_READ_ONLY = 19,
        STAGE1_INIT_EXIT_SIGNALS = 20,
        STAGE1_INIT_EXIT_READY_FD = 21,
        STAGE1_INIT_EXIT_PID1_DIED = 22,
        STAGE1_INIT_EXIT_SEALED = 23,
        STAGE1_INIT_EXIT_SYSCTL = 24,
};

/* Exit codes of peapod-stage1-app, the same as a shell's (and as podman's
 * and docker's) so that tools reading an app's status need no table. */
enum {
        STAGE1_APP_EXIT_SETUP = 125,
        STAGE1_APP_EXIT_NOT_EXECUTABLE = 126,
        STAGE1_APP_EXIT_NOT_FOUND = 127,
};

#define STAGE1_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

typedef struct InitArgs {
        const char *root;
        const char *hostname;
        int ready_fd;
        bool host_network; /* no network namespace of its own */
        const char *sysctls[POD_SYSCTLS_MAX]; /* KEY=VALUE, checked (sysctl_assignment_is_valid()) */
        size_t n_sysctls;
} InitArgs;

/* --bind=SOURCE:TARGET[:ro|:rw|:rslave|:rshared]: a volume bound into the app. */
typedef struct BindSpec {
        char *source;  /* absolute, on the host */
        char *target;  /* absolute inside the app, no "." or ".." components */
        bool read_only;
        /* :rslave: the bind stays a slave of its source's peer group (the
         * host's later mounts below it arrive); :rshared: a peer of it
         * (and the app's mounts below it reach the host, privileged apps
         * only); else it is made private. */
        VolumePropagation propagation;
} BindSpec;

#define STAGE1_BINDS_MAX 64
/* An image's layers: stage0 takes at most 256 (MANIFEST_LAYERS_MAX). */
#define STAGE1_LOWERS_MAX 256

/* Parses one --bind= value; -EINVAL if malformed. */
int bind_spec_parse(const char *s, BindSpec *ret, const char **ret_reason);

/* Parses one --device=HOST:CONTAINER value (a host device node and where
 * it goes in the app's /dev: app_device_check(), as peapodd checked it);
 * -EINVAL if malformed. source is HOST, target CONTAINER. */
int device_spec_parse(const char *s, BindSpec *ret, const char **ret_reason);
void bind_spec_done(BindSpec *b);

/* peapod-stage1-app's command line (stage1/README.md), not AppSpec
 * (src/basic/app-spec.h): what peapodd resolved from a client's app (the
 * pod's leader, the unit's scope, the image's layers, volumes as binds,
 * device nodes, the security settings), a versioned contract of its own
 * that every stage1 flavour implements, so it stays a separate type. */
typedef struct Stage1AppCommand {
        pid_t leader;
        const char *scope;
        const char *rootfs;
        /* The overlay the helper mounts on rootfs in its own mount namespace
         * (contract 3); without upper, rootfs is used as it is. */
        char **lowers;          /* owned copies, the top layer first */
        const char *upper;
        const char *work;
        const char *app_id;
        const char *app_name;   /* the journal identifier; NULL = app_id */
        /* --log-namespace=: the journald namespace that gets the app's
         * streams and our own complaints; NULL = the system journal's
         * streams, and our complaints on the unit's own stream. */
        const char *log_namespace;
        const char *workdir;
        Stage1Security sec;     /* user, groups, caps, no_new_privs, seccomp */
        bool readonly_rootfs;
        bool private_pid_ns;  /* a PID namespace of its own instead of the pod's */
        bool private_ipc_ns;  /* an IPC namespace of its own instead of the pod's */
        BindSpec binds[STAGE1_BINDS_MAX];
        size_t n_binds;
        BindSpec devices[STAGE1_BINDS_MAX]; /* --device=: source the host's node, target below /dev */
        size_t n_devices;
        char **masked_paths;   /* owned; --masked-path=, inside the app's root */
        char **readonly_paths; /* owned; --readonly-path= */
        const char *etc_dir; /* hosts, resolv.conf, hostname for the app's /etc; NULL = none */
        bool tty;            /* stdin is a pty made for the app: stdout, stderr, controlling terminal */
        bool machine_root;   /* the root machined's copy-to/copy-from see (default flavour) */
        bool tty_log;        /* --tty-log: --tty, and the terminal's output copied to the journal by us */
        /* --privileged: the host's /dev, /proc unmasked, /sys writable, the
         * capabilities cut to the helper's bounding set only. peapodd
         * passes it only for an app whose creation polkit's
         * org.peapod1.run-privileged allowed (stage1/README.md,
         * "Privileged apps"); never with --device=, --masked-path= or
         * --readonly-path=. */
        bool privileged;
        char **env;  /* owned copies, "K=V" */
        char **cmd;  /* points into argv */
} Stage1AppCommand;

void stage1_app_command_done(Stage1AppCommand *a);

/* Both return 0 to go on, 1 when --help was printed (exit 0), or -EINVAL
 * after logging one line about the bad argument. */
int init_args_parse(int argc, char *argv[], InitArgs *ret);
int stage1_app_command_parse(int argc, char *argv[], Stage1AppCommand *ret);

int parse_pid(const char *s, pid_t *ret);
int parse_fd(const char *s, int *ret);

/* hostname_is_valid() and env_assignment_is_valid() are in valid-util.h,
 * shared with stage0. */
bool unit_name_is_valid(const char *s);
bool app_id_is_valid(const char *s);
bool log_namespace_is_valid(const char *s);
bool env_has_path(char * const *env);

/* Whether the contents of a /proc/PID/cgroup file put the process in unit:
 * the unified ("0::") or the named systemd ("N:name=systemd:") hierarchy
 * path must end in "/<unit>". 1 yes, 0 no, -EINVAL on garbage. */
int cgroup_contents_in_unit(const char *contents, const char *unit);

/* The unit whose cgroup a /proc/PID/cgroup file names (the last component
 * of the unified or the named systemd hierarchy's path), if it is a valid
 * unit name; -ENOENT if there is none. */
int cgroup_contents_unit(const char *contents, char **ret_unit);

/* Reads the file name below dir_fd into buf as a string: -EFBIG unless it
 * fits in size - 1 bytes. */
int read_small_fileat(int dir_fd, const char *name, char *buf, size_t size);

/* The pid reuse guard of every stage1 entry: the process whose /proc
 * directory is proc_fd (named path in messages) must be in unit's cgroup.
 * Its cgroup file is read through proc_fd, which stays bound to that
 * process, so a pid reused since the fd was opened fails here instead of
 * passing. Logs why it refuses. */
int proc_check_in_unit(int proc_fd, const char *path, const char *unit, size_t max_size);

/* Maps the errno of a failed exec to 126 or 127, as a shell does. */
int exec_errno_to_exit_status(int error);

/* Creates directory name (one path component) below dir_fd unless it
 * exists, and returns an O_PATH fd of it. A symlink or a non-directory in
 * its place is refused (-ELOOP or -ENOTDIR), never followed. */
int mkdirat_nofollow(int dir_fd, const char *name, mode_t mode);

/* Creates an empty regular file (a bind mount target) below dir_fd and
 * returns an O_PATH fd of it; refuses anything already there. */
int mkfileat_nofollow(int dir_fd, const char *name, mode_t mode);


/* The mount point (the fifth field) of one line of /proc/PID/mountinfo,
 * with the kernel's octal escapes ("\040" for a space, and the like) undone,
 * into buf: -EINVAL if the line is malformed or the escapes are not the
 * kernel's, -ENAMETOOLONG if it does not fit in size. */
int mountinfo_mount_point(const char *line, char *buf, size_t size);

/* Whether path is prefix or below it, component-wise: "/a/b" is below
 * "/a", "/ab" is not. Both absolute, without trailing "/" (but "/"). */
bool path_is_at_or_below(const char *path, const char *prefix);

/* "/proc/self/fd/N": lets mount(2) act on exactly the inode we checked
 * instead of resolving a path again. */
#define FD_PATH_MAX (sizeof("/proc/self/fd/") + 12)
char *fd_path(char buf[static FD_PATH_MAX], int fd);

/* The arguments file of a unit-started helper: stage0 writes a helper's
 * arguments (one NUL-terminated string each) into a root-owned file and
 * gives systemd only "HELPER --args-file=PATH". A unit's ExecStart then
 * holds no $VAR, % or quoting that systemd might read back differently
 * after daemon-reload (252 cannot even read back ExecStartEx), and the
 * command line of an app survives every reload and reexec exactly.
 *
 * If *argc is 2 and argv[1] is "--args-file=PATH", replaces *argc and *argv
 * with argv[0] followed by the file's strings and returns 1; returns 0 when
 * there is no such argument. PATH must be absolute, a regular file owned by
 * root and writable by nobody else (nothing but stage0 may write a root
 * helper's arguments), at most STAGE1_ARGS_FILE_MAX bytes and
 * STAGE1_ARGS_MAX strings. With unlink_after, the file is removed once read
 * (a one-shot exec). The new argv lives until exit. Logs why it fails. */
#define STAGE1_ARGS_FILE_MAX (1U << 20)
#define STAGE1_ARGS_MAX 8192
int stage1_args_file_load(int *argc, char ***argv, bool unlink_after);
