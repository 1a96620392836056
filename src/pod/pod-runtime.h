/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "pod.h"
#include "sealed-copy.h"
#include "systemd.h"

/* What the pod state machine needs from its environment: a bus connection
 * to systemd and machined that nobody else processes (see systemd.h), where
 * state lives, and where the stage1 helpers are. */
typedef struct PodRuntime {
        sd_bus *bus;
        const char *state_dir;
        const char *stage1_dir;
        const char *run_dir;         /* NULL = PEAPOD_RUNTIME_DIR; netns bind mounts below it */
        const char *cni_conf_dir;    /* NULL = CNI_DEFAULT_CONF_DIR */
        char **cni_plugin_dirs;      /* NULL = CNI_DEFAULT_PLUGIN_DIR */
        /* An app created with Stdin (App.stdin_open) reads the read end of
         * a pipe whose write end the caller keeps for attachers (peapodd's
         * daemon-attach.c): called while the app's unit is built, returns
         * that read end in ret_fd (the caller of the hook closes it once
         * the unit has its copy). For an app with Tty it returns instead a
         * unix socket over which the app's helper sends the master of the
         * app's terminal (AppStdin.tty_log). NULL: such an app gets
         * /dev/null. */
        int (*app_stdin_open)(void *userdata, const Pod *p, const App *a, int *ret_fd);
        void *app_stdin_userdata;
        /* Writes pod.json's durable copies (pod_save()); none: at once. */
        PodDurableWriter durable;
        /* Where pod_reconcile() gets a unit's status first (peapodd's start
         * reads them all at once beforehand); -ENOENT, or no hook: asked
         * of systemd on bus. */
        int (*unit_status)(void *userdata, const char *unit, UnitStatus *ret);
        void *unit_status_userdata;
        /* The networks' host rules installed since the start (a key each,
         * pod-network.c); owned, freed by the runtime's owner. */
        char **network_rules;
        /* The loopback guard was found whole or installed since the start
         * (pod-network.c): later starts look at it beside the ADDs. */
        bool loopback_guarded;
        /* Where a stop may leave work to finish after it has answered: the
         * removal of a pod's bridge binding, once its networks are deleted
         * (pod-network.c). NULL (or a stop on another loop): done within
         * the stop. */
        sd_event *background_event;
        struct PortUnbind **port_unbinds;
        size_t n_port_unbinds;
        /* Sealed copies of the stages1' inits, one per stage1, which each
         * pod's init is executed from (sealed-copy.h); zeroed: none yet.
         * Freed by pod_runtime_copies_free(). */
        SealedCopy init_copies[4];
} PodRuntime;

void pod_runtime_copies_free(PodRuntime *rt);

/* pod_save() with the runtime's state dir and durable writer. */
int pod_runtime_save(PodRuntime *rt, Pod *p);

/* created -> preparing -> running; an exited pod starts again the same
 * way, its apps from the start with their writable layers kept. On
 * failure, everything done so far is undone and the pod is "created"
 * again; err says what failed. */
int pod_start(PodRuntime *rt, Pod *p, PeapodError *err);

/* The first app's stdin instead of /dev/null (a foreground 'peapod run
 * -i/-t', Manager.StartPodWithStdin): fd, a pipe or socket the caller
 * feeds; with tty, a unix socket over which the app's helper sends the
 * caller the master of a pty it makes for the app in the app's own
 * /dev/pts (peapod-stage1-app --tty): the app's stdin, stdout and stderr
 * (instead of the journal) and its controlling terminal. The unit keeps
 * its own copy of fd (systemd's StandardInputFileDescriptor=). */
typedef struct AppStdin {
        int fd;
        bool tty;
        /* With tty: the helper also copies the terminal's output to the
         * journal (--tty-log); the caller only writes and resizes. */
        bool tty_log;
} AppStdin;

/* The rules of a call that starts, stops or removes p now (StartPod,
 * StopPod, RemovePod and their Pod methods), each in one place; err says
 * what was refused. -EALREADY: the pod's state does not allow it
 * (BadState); -EBUSY: it runs and the removal is not forced (PodRunning);
 * -EADDRINUSE: a host port it publishes is taken (PortInUse, checked again
 * at each start: the host may have bound it since the pod was made);
 * -EINVAL: the stdin given (NULL: none) cannot be the first app's. */
int pod_start_check(const Pod *p, Pod * const *pods, size_t n_pods, const AppStdin *in, PeapodError *err);
int pod_stop_check(const Pod *p, PeapodError *err);
/* 1 when p runs and force says to stop it first, 0 when it can go now. */
int pod_remove_check(const Pod *p, bool force, PeapodError *err);

/* pod_start() in steps, for a caller that runs the network, the scope,
 * the machine and the app units without waiting (peapodd's loop). Each
 * step records the pod's state as pod_start() does, so a crash at any
 * point is undone by pod_reconcile():
 *   pod_start_prepare()          -> preparing: mounts
 *   pod_init_spawn_async()       the stage1 init, then
 *   pod_start_init_done()        its leader kept (1 if the stage1 shares
 *                                the host's namespaces: no machine)
 *   pod_scope_message()          StartTransientUnit of the scope, its job
 *                                running alongside the networks':
 *   pod_network_start_async()    -> networks recorded, then
 *   pod_start_network_saved()    the leader and the addresses saved
 *   app_unit_message()           StartTransientUnit per app (in parallel),
 *                                app_mark_started() once its job is done
 *   pod_register_message()       RegisterMachineWithNetwork, once the
 *                                scope's job and the networks are done
 *   pod_start_finish()           -> running
 * pod_start_prepare(), pod_start_init_done() and pod_start_finish() undo
 * the start themselves on
 * failure; after a failure between them the caller calls pod_start_fail()
 * (everything torn down, the pod created again). */
int pod_start_prepare(PodRuntime *rt, Pod *p, PeapodError *err);
int pod_start_init_done(PodRuntime *rt, Pod *p, pid_t leader, PeapodError *err);
/* Runs the pod's stage1 init as a child the loop watches; the callback
 * gets the host pid of the pod's PID 1 once the init reported it and
 * exited (r 0), or -errno with err. Not before this returned. */
typedef struct PodInitSpawn PodInitSpawn;
typedef void (*pod_init_callback_t)(PodInitSpawn *is, int r, pid_t leader, const PeapodError *err, void *userdata);
int pod_init_spawn_async(PodRuntime *rt, sd_event *e, const Pod *p, pod_init_callback_t callback, void *userdata,
                         PodInitSpawn **ret, PeapodError *err);
PodInitSpawn *pod_init_spawn_free(PodInitSpawn *is);
DEFINE_TRIVIAL_CLEANUP_FUNC(PodInitSpawn *, pod_init_spawn_free);
int pod_start_network_saved(PodRuntime *rt, Pod *p);
int pod_scope_message(PodRuntime *rt, sd_bus *bus, const Pod *p, sd_bus_message **ret);
int pod_register_message(PodRuntime *rt, sd_bus *bus, const Pod *p, const int *ifindices, size_t n_ifindices,
                         sd_bus_message **ret);
/* err for a failed scope start or registration (-EEXIST: the name is taken). */
int pod_start_machine_error(const Pod *p, int r, const sd_bus_error *error, PeapodError *err);
int pod_start_finish(PodRuntime *rt, Pod *p, PeapodError *err);
void pod_start_fail(PodRuntime *rt, Pod *p);

/* running -> exited: stops the pod slice (apps and infra), records how each
 * app ended, releases units and mounts. Idempotent. */
int pod_stop(PodRuntime *rt, Pod *p);
/* pod_stop() in two halves around the stop job of the pod's slice, for a
 * caller that runs that job itself without waiting (peapodd), and that
 * follows its apps' units from their signals (pod_apply_unit_signal()):
 * neither half asks systemd anything (given both flags below that say
 * so). prepare returns 1 with the slice to stop (0: nothing to stop);
 * after the job, with every app's outcome noted from its unit's signals
 * (pod_note_unit_signal()), finish records it all (an app still running
 * is recorded exited, how unknown) and tears down. */
typedef enum PodStopFlags {
        /* The pod is recorded exited before its CNI networks are deleted,
         * which the caller then does (pod_network_stop(), or its
         * asynchronous form): their records make that safe across a crash. */
        POD_STOP_KEEP_NETWORK = 1 << 0,
        /* The caller stopped the slice as far as it could: its stop job
         * ended "done", or what did not stop was said (else it is stopped
         * again here, waiting for systemd). */
        POD_STOP_SLICE_STOPPED = 1 << 1,
        /* The caller has sent ResetFailedUnit for pod_unit_list() itself. */
        POD_STOP_UNITS_RESET = 1 << 2,
} PodStopFlags;
int pod_stop_prepare(PodRuntime *rt, Pod *p, char **ret_slice);
int pod_stop_finish(PodRuntime *rt, Pod *p, PodStopFlags flags);
/* pod_start_fail() after a caller that runs the slow steps itself without
 * waiting (peapodd) did what flags say: stopped the slice, reset the
 * units, deleted the networks (POD_STOP_KEEP_NETWORK: none left to do). */
void pod_start_fail_full(PodRuntime *rt, Pod *p, PodStopFlags flags);
/* Every unit a stop of p leaves to reset (an app killed at its stop
 * timeout fails, and a failed unit stays loaded until reset): the apps'
 * units, the scope, the slice. */
int pod_unit_list(const Pod *p, char ***ret);

/* Refuses a running pod with -EBUSY. Deletes what is left of its networks
 * (forgetting what cannot be deleted: call pod_network_stop() first to
 * decide otherwise), then every trace on disk. */
int pod_remove(PodRuntime *rt, Pod *p);
/* pod_remove() up to the step that decides the pod is gone (its directory
 * renamed to ret_gone, "pods/.removing-<id>", which no start of peapod
 * takes for a pod and every start deletes): the caller deletes ret_gone,
 * which may take a while (rm -rf of the apps' writable layers). It runs
 * no CNI plugin: the caller runs the DELs the pod owes first (peapodd
 * without waiting), or the records of what they did not delete are
 * forgotten with the pod. */
int pod_remove_detach(PodRuntime *rt, Pod *p, char **ret_gone);

/* Ask systemd how the pod's apps are doing and record it. Returns 1 if
 * anything changed (and was saved), 0 if not. */
int pod_refresh(PodRuntime *rt, Pod *p);

/* After a start of the manager: finish or undo what a crash interrupted,
 * take the references a running pod's units need again, and catch up on
 * exits that happened meanwhile. Returns 1 if the pod changed. */
int pod_reconcile(PodRuntime *rt, Pod *p);

/* Whether the pod's stage1 flavour runs apps in the host's namespaces (its
 * directory holds a file "host-namespaces"): such a pod is not registered
 * with machined. 1 yes, 0 no, -errno. */
int pod_stage1_shares_host(PodRuntime *rt, const Pod *p);

/* What a flavour in the host's namespaces (fly) refuses when the app
 * starts (stage1/README.md: --bind and --pid-namespace=app), refused when
 * the app is created instead: -EINVAL with err set. */
int app_check_stage1(PodRuntime *rt, const Pod *p, const App *a, PeapodError *err);

/* The steps of a start and a stop for one app, shared with pod-app.c (apps
 * added to, started in and removed from a running pod). */
/* One volume of the pod: pinned or made (as at the pod's start), and
 * unmounted with its pin point removed. */
int pod_volume_setup(PodRuntime *rt, const Pod *p, const Volume *v, PeapodError *err);
void pod_volume_teardown(PodRuntime *rt, const Pod *p, const Volume *v);
int app_dir(PodRuntime *rt, const Pod *p, const App *a, const char *sub, char **ret);
/* The pod's files that are written anew at every start and live no longer
 * than its units (the pod's root mount point, etc/, the apps' stage1-args):
 * <run_dir>/pods/<id>[/SUB], on a tmpfs, where making and deleting them
 * costs nothing of the disk; a power loss takes them with the units. Made
 * by pod_run_dir_make(), root's alone (stage1-args holds the apps'
 * environment); removed with the pod (pod_remove_detach()). */
/* rt's run_dir, or PEAPOD_RUNTIME_DIR when it sets none. */
const char *pod_runtime_dir(const PodRuntime *rt);
int pod_run_dir(const PodRuntime *rt, const Pod *p, const char *sub, char **ret);
int pod_run_dir_make(const PodRuntime *rt, const Pod *p, const char *sub, char **ret);
/* Checks the app's overlay paths and makes its directories; the stage1
 * helper mounts the overlay in the app's mount namespace. */
int app_prepare_rootfs(PodRuntime *rt, const Pod *p, const App *a);
void app_umount_rootfs(PodRuntime *rt, const Pod *p, const App *a);
int app_start_unit(PodRuntime *rt, const Pod *p, App *a, const char *slice, const char *scope,
                   const AppStdin *in, PeapodError *err);
/* app_start_unit() in two: the StartTransientUnit call (built for bus;
 * in: the first app's stdin, or NULL), and what is recorded once its job
 * is done. */
int app_unit_message(PodRuntime *rt, sd_bus *bus, const Pod *p, const App *a, const char *slice, const char *scope,
                     const AppStdin *in, sd_bus_message **ret, PeapodError *err);
void app_mark_started(App *a);

/* The ExecStart of a unit-started stage1 helper: writes argv[1..] to
 * args_file (stage1/README.md, "--args-file") and appends ExecStart =
 * helper "argv[0] --args-file=ARGS_FILE", which systemd reads back the same
 * after any reload. args_file must be absolute and hold no '$'. */
int stage1_append_exec_start(sd_bus_message *m, const char *helper, char * const *argv, const char *args_file);
/* Records how an app of p ended from its unit's PropertiesChanged m, the
 * only place that says so for a unit that systemd unloads (app units carry
 * no AddRef): for a running app, or one recorded exited in an unknown way
 * (its unit was found gone first). 1 if it did, 0 if m says nothing of
 * that. The caller saves the pod. */
int pod_note_unit_signal(Pod *p, sd_bus_message *m);
/* Applies an app unit's PropertiesChanged m to the running app of p it is
 * of, without asking systemd: the Service signal's ExecMain* are kept, the
 * Unit signal systemd sends right after it says the state. 1 if the app
 * changed (the caller saves the pod), 0 if not; ret_ask is set to the app
 * when its unit ended but how is not in the signals: the caller reads its
 * unit (asynchronously) and applies that with app_update_from_unit(). */
int pod_apply_unit_signal(Pod *p, sd_bus_message *m, App **ret_ask);
/* Stops unit (the pod's slice, an app's unit), noting meanwhile how the
 * running apps of p ended (pod_note_unit_signal()). */
int pod_stop_units(PodRuntime *rt, Pod *p, const char *unit);
/* systemd's ExecMainCode (CLD_EXITED, CLD_KILLED, CLD_DUMPED) as a result. */
AppResult app_result_from_exec_main_code(int exec_main_code);
/* Record what systemd says of an app's unit; true if anything changed. */
struct UnitStatus;
bool app_update_from_unit(App *a, const struct UnitStatus *s);

/* Appends the stage1 options that give a process the app's identity and
 * privileges (--user, --supplementary-groups, --capabilities,
 * --ambient-capabilities, --no-new-privileges, --seccomp; see
 * stage1/README.md): whatever runs as or inside the app passes exactly
 * these, never more. host_namespaces: the pod's flavour shares the host's
 * namespaces (see app_caps_for_flavour()). */
int app_security_argv(const App *a, bool host_namespaces, char ***argv);
