/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdio.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "image-catalog.h"
#include "peapod-bus.h"
#include "pod-runtime.h"
#include "pod.h"
#include "store.h"
#include "systemd.h"

typedef struct PolkitQuery PolkitQuery;

/* What the bus was last told of a pod's changing properties
 * (daemon-pod.c): compared with the pod after every event of the loop, so
 * that PropertiesChanged is sent from one place, for exactly what changed.
 * Apps and Networks are kept as hashes of what their getters return. */
typedef struct PodPublished {
        PodState state;
        uint32_t leader;
        uint64_t started_usec, exited_usec;
        uint64_t apps_hash, networks_hash;
        /* Touched since the last publish (daemon_event_touched()). */
        bool dirty;
        /* The pod's generation when its strings were hashed last, and the
         * hash of its apps' unchanging part then: reused until it is saved
         * again. */
        bool hashed;
        uint64_t hashed_generation, apps_identity_hash;
} PodPublished;

typedef struct Daemon {
        sd_event *event;
        /* Serves org.peapod1 and receives systemd's and machined's signals. */
        sd_bus *bus;
        /* Synchronous calls to systemd and machined from libpod; processed
         * only by those calls, so they may wait for jobs while a method
         * handler on the other connection runs. */
        sd_bus *worker;
        PodRuntime runtime;
        Pod **pods;
        size_t n_pods;
        /* The same pods by id and by name (tsearch(3) trees of Pod *):
         * every systemd signal about a pod's unit and every callback of
         * an operation looks its pod up, and at 1000 pods the linear
         * scans' strcmp() was 8% of the loop's time during a churn. */
        void *pods_by_id, *pods_by_name;
        /* published[i] is what was announced of pods[i]. */
        PodPublished *published;
        /* The loop's iteration at the last publish, and how many events
         * since changed no pod but the ones they marked dirty
         * (daemon_event_touched()). */
        uint64_t publish_iteration, publish_signals;
        /* A compare of all pods owed since publish_all_since (the loop's
         * clock), made by publish_all_source once the loop has nothing
         * else to do (daemon_publish_pod_changes()). */
        sd_event_source *publish_all_source;
        bool publish_all_pending;
        uint64_t publish_all_since;
        /* The iteration daemon_event_touched() last counted. */
        uint64_t touched_iteration;

        /* Images: the store is opened on first use by the main thread;
         * jobs (pulls) run in worker threads with stores of their own. */
        char *images_dir;
        Store *store;
        ImageInfo image_cache; /* the Image object being dispatched */
        /* The image names last announced, "ID NAME" (daemon_images_changed()). */
        char **image_refs;
        bool image_refs_known;
        struct Job **jobs;
        size_t n_jobs;
        uint32_t last_job_id;
        /* Pod stops in flight (daemon-stop.c), at most one per pod. */
        struct PodStop **stops;
        size_t n_stops;
        /* App stops and starts in flight (daemon-app-core.c), at most one per app. */
        struct AppStop **app_stops;
        size_t n_app_stops;
        struct AppStartOp **app_starts;
        size_t n_app_starts;
        /* Execs (Pod.Exec, daemon-app-core.c): from the spawn of their helper
         * to the announce of its end (ExecFinished). */
        struct ExecProcess **execs;
        size_t n_execs;
        /* Image store gcs in flight (daemon-image.c) and the calls that
         * change names, waiting for them to end: a gc holds the store's
         * locks, which those calls would wait for on the loop. */
        unsigned n_image_gcs;
        sd_bus_message **image_waiting;
        size_t n_image_waiting;
        /* pod.json's durable copies, in a thread (daemon-durable.c). */
        struct DurableQueue *durable;
        /* Filesystem work in threads (daemon-work.c). */
        struct Work **works;
        size_t n_works;
        /* systemd jobs of ours in flight (daemon-unit-job.c). */
        struct UnitJob **unit_jobs;
        size_t n_unit_jobs;
        /* polkit checks in flight or answered (daemon-polkit.c). */
        PolkitQuery **polkit_queries;
        size_t n_polkit_queries;
        /* Pod starts in flight and the CNI teardowns after a pod exited
         * (daemon-start.c, daemon-stop.c), at most one per pod; the
         * lifecycle calls waiting for them. */
        struct PodStart **starts;
        size_t n_starts;
        struct PodTeardown **teardowns;
        size_t n_teardowns;
        /* The startup's look for bridge bindings of pods that no longer run
         * (daemon-recover.c). */
        struct FirewallOp *port_sweep;
        struct QueuedCall **queued;
        size_t n_queued;
        /* Write ends of the attachable stdins of running apps (daemon-attach.c). */
        struct AppStdinEntry **app_stdins;
        size_t n_app_stdins;
} Daemon;

/* Attachable stdins (daemon-attach.c): the PodRuntime hook that makes an
 * app's pipe, the write ends systemd kept for us across a restart, and
 * Pod.AttachApp. */
int daemon_app_stdin_open(void *userdata, const Pod *p, const App *a, int *ret_fd);
void daemon_app_stdins_restore(Daemon *d);
void daemon_app_stdins_free(Daemon *d);
int bus_pod_method_attach_app(sd_bus_message *m, void *userdata, sd_bus_error *error);
/* The lifecycle calls of a pod that wait for its operation in flight. */
typedef enum QueuedOp {
        QUEUE_START,
        QUEUE_STOP,
        QUEUE_REMOVE,
} QueuedOp;

/* Stops pod p without waiting (daemon-stop.c): call, if not NULL, is
 * answered when the stop has ended (or failed), and with remove the pod is
 * then removed as RemovePod with flags would. A stop of p already in flight
 * takes call as one more to answer. */
typedef struct PodStop PodStop;
int daemon_pod_stop(Daemon *d, Pod *p, sd_bus_message *call, bool remove, uint64_t flags);
bool daemon_pod_stopping(Daemon *d, const Pod *p);
/* The rule of the calls that change a pod's apps: refused (-EALREADY, err
 * set: BadState) while the pod is being stopped or started. */
int daemon_pod_check_idle(Daemon *d, const Pod *p, PeapodError *err);
void daemon_stops_free(Daemon *d);
/* The CNI teardown of a pod that has exited, after its state was recorded
 * and announced (daemon-stop.c). */
bool daemon_pod_tearing_down(Daemon *d, const Pod *p);
void daemon_teardowns_free(Daemon *d);
/* The DELs an exited pod still owes (pod_network_owed()), run as that
 * teardown before call (StartPod, RemovePod with flags: op) goes on:
 * dispatched again once they are done, or answered with their error
 * (RemovePod with force: dispatched all the same, the records dropped). */
int daemon_pod_owed_teardown(Daemon *d, Pod *p, sd_bus_message *call, QueuedOp op, uint64_t flags);
/* The same for a caller in peapodd: done is called from the loop once the
 * DELs have ended, with p (NULL if it is gone) and their outcome; with
 * force a DEL that fails drops its record. -errno: nothing begun, done not
 * called. */
typedef void (*OwedDelsDone)(Daemon *d, Pod *p, int r, const PeapodError *err, void *userdata);
int daemon_pod_owed_dels(Daemon *d, Pod *p, bool force, OwedDelsDone done, void *userdata);
/* Undoes the start of p that failed past its mounts (p "preparing")
 * without holding the loop, as that teardown: the slice's stop job, the
 * units' resets, the DELs, then the pod is created again and call (may be
 * NULL) answered with error. -errno (nothing done) if it cannot begin. */
int daemon_pod_start_undo(Daemon *d, Pod *p, sd_bus_message *call, const sd_bus_error *error);

/* Starts pod p without holding the loop (daemon-start.c); call is answered
 * when it runs or has failed. -errno with err set when the start failed
 * at once (call not answered); 0 otherwise. */
typedef struct PodStart PodStart;
int daemon_pod_start(Daemon *d, Pod *p, sd_bus_message *call, const AppStdin *in, PeapodError *err);
bool daemon_pod_starting(Daemon *d, const Pod *p);
int daemon_job_removed_start(Daemon *d, const char *job, const char *result);
void daemon_starts_free(Daemon *d);
/* A start, a stop or a teardown of p, or a start of one of its apps, is in
 * flight: its lifecycle calls wait. */
bool daemon_pod_busy(Daemon *d, const Pod *p);
/* One queue per pod: StartPod, StopPod, RemovePod of a busy pod wait there
 * (enqueue returns 1: answered later) and are dispatched in order once it
 * is not (daemon_pod_queue_run(), called at the end of each operation). */
typedef struct QueuedCall QueuedCall;
int daemon_pod_enqueue(Daemon *d, Pod *p, sd_bus_message *call, QueuedOp op, uint64_t flags);
void daemon_pod_queue_run(Daemon *d, const char *pod_id);
void daemon_queue_free(Daemon *d);
/* The bus error of a failed start (PodExists when the machine name is taken). */
int bus_pod_start_error(sd_bus_error *error, const Pod *p, int r, const PeapodError *perr);

/* A systemd job of ours (daemon-unit-job.c): call (StopUnit,
 * StartTransientUnit: a method that returns a job) is sent on the main
 * connection and done is called once, from the loop, when the job has
 * ended: with the call's error, or with JobRemoved's result ("done",
 * "failed", "canceled", ...), or with "timeout" when no JobRemoved came
 * within timeout_usec. ret (may be NULL) is valid until done runs or
 * unit_job_cancel() (which calls nothing). unit names the job in logs. */
typedef struct UnitJob UnitJob;
typedef void (*UnitJobDone)(const sd_bus_error *error, const char *result, void *userdata);
int daemon_unit_job(Daemon *d, sd_bus_message *call, const char *unit, uint64_t timeout_usec, UnitJobDone done,
                    void *userdata, UnitJob **ret);
/* daemon_unit_job() of StopUnit(unit, "replace"). */
int daemon_stop_unit_job(Daemon *d, const char *unit, uint64_t timeout_usec, UnitJobDone done, void *userdata,
                         UnitJob **ret);
void unit_job_cancel(UnitJob *j);
/* ResetFailedUnit of each of units, sent on the main connection without
 * waiting: systemd handles one connection's calls in order, so a later
 * StartTransientUnit of the same name on it comes after the reset. sd-bus
 * writes a call at once when none is queued before it. */
int daemon_reset_failed_units(Daemon *d, char * const *units);
/* A start job that "failed" started its unit all the same if the main
 * process ran (systemd_start_job_check() says 1): the unit is read on the
 * main connection without waiting (systemd_unit_read_async()), and this
 * judges the reply. */
bool daemon_start_job_ran(sd_bus_message *reply);
/* systemd's JobRemoved for job: 1 if it was one of ours. */
int daemon_job_removed(Daemon *d, const char *job, const char *result);
void daemon_unit_jobs_free(Daemon *d);

/* Runs fn(userdata) in a thread of its own (daemon-work.c) and then, on
 * the loop, done(d, what fn returned, userdata). fn must touch nothing the
 * loop owns (no bus, no Daemon, no Pod): give it copies. At exit
 * (daemon_works_free()) the works in flight are waited for and finished. */
typedef struct Work Work;
typedef int (*WorkFn)(void *userdata);
typedef void (*WorkDone)(Daemon *d, int r, void *userdata);
int daemon_work(Daemon *d, WorkFn fn, WorkDone done, void *userdata);
void daemon_works_free(Daemon *d);
/* Deletes the tree at path (taken; a removed pod's or app's files, renamed
 * away already) in such a thread, or here when none can start; a failure
 * is logged (the next start of peapodd deletes what is left). Then
 * done(d, rm -rf's outcome, userdata), if done is given. */
void daemon_delete_tree(Daemon *d, char *path, WorkDone done, void *userdata);

/* The state thread (daemon-durable.c) writes pod.json's durable copies
 * for d->runtime, in order. daemon_durable_barrier() calls done() on the
 * loop once every copy asked for so far is on disk (r is 0); with ret,
 * daemon_durable_cancel() on it keeps done from being called.
 * daemon_durable_stop() writes what is queued and calls what is owed. */
typedef struct DurableQueue DurableQueue;
typedef struct DurableItem DurableItem;
int daemon_durable_start(Daemon *d);
void daemon_durable_stop(Daemon *d);
int daemon_durable_barrier(Daemon *d, WorkDone done, void *userdata, DurableItem **ret);
void daemon_durable_cancel(DurableItem *i);

int daemon_load_pods(Daemon *d);
/* Before daemon_load_pods(): leftovers of a crashed predecessor (daemon-recover.c). */
void daemon_recover(Daemon *d);
/* Once the pods are loaded: the bridge bindings of pods that no longer run
 * (a crash between a pod's DELs and its binding's removal) are removed in
 * the background. */
void daemon_port_sweep_start(Daemon *d);
void daemon_port_sweep_free(Daemon *d);
Pod *daemon_find_pod(Daemon *d, const char *key, int *ret_error);
Pod *daemon_pod_by_id(Daemon *d, const char *id);
Pod *daemon_pod_by_name(Daemon *d, const char *name);
/* -EEXIST: a pod of that id or name is there already. */
int daemon_add_pod(Daemon *d, Pod *p);
void daemon_forget_pod(Daemon *d, Pod *p);
void daemon_pods_free(Daemon *d);
/* Removes a pod that is not running from disk and the bus, with
 * PodRemoved: p is gone when this returns 0, and its files are deleted off
 * the loop, after which deleted (may be NULL) is called with the outcome of
 * the deletion (daemon-work.c). DELs the pod still owes (a crash, a DEL
 * that failed) run first, as the loop's children, forced (what cannot be
 * deleted is forgotten with the pod; RemovePod without force refuses that
 * before it gets here): then 1 is returned, p goes once they have ended,
 * and deleted is called after its files' deletion as above, or with the
 * error if it could not go after all. On failure (< 0) nothing is removed
 * and deleted is not called. */
typedef void (*PodDeleted)(Daemon *d, int r, void *userdata);
int daemon_remove_pod(Daemon *d, Pod *p, PodDeleted deleted, void *userdata);
/* Removes every pod due for gc (pod_gc_is_due() with grace_usec, and no
 * operation in flight) as daemon_remove_pod() does (daemon-gc.c); a pod
 * that fails to go is logged and left for the next run. done is called
 * once, when the files of all of them are deleted, with removed the id and
 * name of each as pairs (id, name, id, name, ...) and error < 0 if the run
 * was cut short (what was removed stays removed). */
typedef void (*PodsCollected)(Daemon *d, int error, char **removed, void *userdata);
int daemon_gc_pods(Daemon *d, uint64_t grace_usec, PodsCollected done, void *userdata);
/* Manager.GarbageCollect (daemon-gc.c). */
int bus_method_garbage_collect(sd_bus_message *m, void *userdata, sd_bus_error *error);
/* Reads the unit of app a of p (GetAll of every interface) on the main
 * connection, without waiting: the answer is applied to the app if it is
 * still the same run (as the units' signals are), and then done (may be
 * NULL) runs with the pod and app as they are then (NULL if gone) and
 * what was read of this run (NULL if nothing). done owns userdata; if
 * peapodd exits first, free_userdata (may be NULL) frees it. -errno (done
 * never runs, userdata stays the caller's) if the read cannot be sent. */
typedef void (*AppUnitReadDone)(Daemon *d, Pod *p, App *a, const UnitStatus *s, void *userdata);
int daemon_app_unit_read(Daemon *d, Pod *p, App *a, AppUnitReadDone done, void *userdata, sd_bus_destroy_t free_userdata);
/* React to a change seen from systemd: refresh, and stop a pod whose apps
 * have all exited. */
void daemon_pod_changed(Daemon *d, Pod *p);
int daemon_track_systemd(Daemon *d);

/* Bus faces. */
/* Registers every object and interface of org.peapod1 on bus (daemon-objects.c). */
int daemon_add_objects(sd_bus *bus, Daemon *d);
/* Writes the introspection XML of interface (NULL: of all of ours) as
 * sd-bus serves it, without the standard interfaces; -ENXIO for an
 * interface that is not ours. */
int daemon_bus_introspect(FILE *f, const char *interface);
/* "org.peapod1.Manager, org.peapod1.Pod, ..." */
void daemon_bus_interfaces(FILE *f);
extern const sd_bus_vtable manager_vtable[];
extern const sd_bus_vtable pod_vtable[];
int pod_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                    sd_bus_error *error);
int pod_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error);
/* A pod's object path, PEAPOD_POD_PATH_PREFIX "/<id>": into buf (returned),
 * or allocated. */
#define POD_OBJECT_PATH_MAX (sizeof(PEAPOD_POD_PATH_PREFIX "/") + POD_ID_LEN)
const char *pod_object_path_into(const Pod *p, char buf[static POD_OBJECT_PATH_MAX]);
int pod_object_path(const Pod *p, char **ret);
void pod_published_init(PodPublished *pub, const Pod *p);
/* Sends PropertiesChanged for every pod whose properties differ from what
 * was published; run after every event of the loop (a post source). */
int daemon_publish_pod_changes(sd_event_source *s, void *userdata);
/* Adds that post source, and the idle one that compares all pods. */
int daemon_watch_pod_changes(Daemon *d);
/* The event being dispatched (a change signal of systemd's, a read)
 * changed no pod but p (none if NULL): the next publish compares only the
 * pods so marked when every event since the last one said so. */
void daemon_event_touched(Daemon *d, Pod *p);
/* Reads (Properties.Get and GetAll, Introspect, GetManagedObjects, Peer)
 * call daemon_event_touched(d, NULL): they change no pod. */
int daemon_watch_reads(Daemon *d);
/* Image names changed, maybe (daemon-image.c): compares the store with
 * what was published and announces the difference (ImagesChanged, the
 * Image objects' InterfacesAdded/Removed and Names). The first call only
 * records. */
void daemon_images_changed(Daemon *d);
/* Authorizes call m for a polkit action (daemon-polkit.c): 1 if root (the
 * bus's record of the caller) or polkit allows it, < 0 with error set if
 * not. 0 means the bus or polkit has been asked: the handler returns 1 at
 * once without a reply and is run again with the same message when the
 * answer is in, so it calls this before it changes anything. Every caller
 * passes d: a call that waited in a pod's queue runs outside its dispatch,
 * where the bus has no current slot to find it from. */
int bus_verify_polkit(Daemon *d, sd_bus_message *m, const char *action, sd_bus_error *error);
/* A privileged app is the host's root (stage1/README.md, "Privileged
 * apps"): creating one (CreatePod, AddApp) or acting inside one (Exec,
 * AttachApp) needs org.peapod1.run-privileged besides the call's own
 * action, checked after it. 1 when allowed or not privileged, 0 when
 * polkit will dispatch the call again, < 0 refused. */
int bus_verify_privileged(Daemon *d, sd_bus_message *m, bool privileged, sd_bus_error *error);
void daemon_polkit_queries_free(Daemon *d);
/* Which named errors a failed call may answer with (daemon-bus-error.c). */
typedef enum BusErrorScope {
        BUS_ERROR_SCOPE_POD,   /* NoSuchImage, PodExists, PodRunning, PortInUse, BadState */
        BUS_ERROR_SCOPE_APP,   /* NoSuchImage, AppExists, AppRunning, BadState */
        BUS_ERROR_SCOPE_IMAGE, /* NoSuchImage, ImageInUse */
        BUS_ERROR_SCOPE_TRUST, /* NoSuchKey */
        BUS_ERROR_SCOPE_ARGS,  /* none of ours: only InvalidArgs */
        /* BadState: a call on a pod or app that exists, refused by its state
         * alone, whose other failures (systemd's) keep their errno. */
        BUS_ERROR_SCOPE_STATE,
        _BUS_ERROR_SCOPE_MAX,
        _BUS_ERROR_SCOPE_INVALID = -EINVAL,
} BusErrorScope;
/* The name for r (-errno of the core) among the scope's, as the shared map
 * pairs them; InvalidArgs for EINVAL and E2BIG; NULL if none. */
const char *bus_error_name_from_errno(BusErrorScope scope, int r);
/* Sets error for r: that name with message (or, if message is empty, what
 * the name means), or else an errno error "WHAT: message-or-strerror" with
 * WHAT from format ("Failed to remove image %s"). Returns what
 * sd_bus_error_set*() returns, a -errno for the handler to return. */
int bus_error_from_errno(sd_bus_error *error, BusErrorScope scope, int r, const char *message, const char *format, ...)
        _printf_(5, 6);
#define APP_ARGV_MAX 4096
#define APP_ENV_MAX 4096
/* One entry of an a(sv) of properties, whose value (of signature
 * contents) is next in m: reads it and returns >= 0, or refuses the name
 * or the type with error set. */
typedef int (*BusPropertyReader)(sd_bus_message *m, const char *name, const char *contents, void *userdata,
                                 sd_bus_error *error);
/* The a(sv) loop of every reader of properties (daemon-pod-spec.c): enter
 * the array, each (sv) to read_one, exit. */
int bus_read_properties(sd_bus_message *m, BusPropertyReader read_one, void *userdata, sd_bus_error *error);
/* An app's a(sv) properties into spec (zeroed by the caller; the caller
 * frees it with app_spec_done(), also on failure): the reader that
 * CreatePod and Pod.AddApp share. */
int bus_read_app_spec(sd_bus_message *m, AppSpec *spec, sd_bus_error *error);
/* The same after (s name, s image), as both take an app. */
int bus_read_named_app_spec(sd_bus_message *m, AppSpec *spec, sd_bus_error *error);

/* The pod's own settings, from CreatePod's a(sv) (daemon-pod-spec.c). */
typedef struct PodProperties {
        bool stop_when_apps_exit;
        bool cpu_accounting;
        char *stage1;
        /* The network (pod-network.h), checked by pod_network_from_spec(). */
        char **networks, **dns, **dns_search, **dns_options;
        char *hostname;
        PodPort *ports;
        size_t n_ports;
        Volume *volumes;
        size_t n_volumes;
        char **annotations;
        char **sysctls;         /* pairs, checked by pod_set_sysctls() */
        char **volume_propagation;  /* pairs: VolumePropagation, applied to volumes once read */
} PodProperties;

void pod_properties_done(PodProperties *p);
/* An Annotations property (a{ss}) into pairs; checked by libpod. */
int bus_read_annotations(sd_bus_message *m, const char *contents, char ***ret, sd_bus_error *error);
/* Appends pairs as a{ss}. */
int bus_append_annotations(sd_bus_message *m, char * const *pairs);
int bus_read_pod_properties(Daemon *d, sd_bus_message *m, PodProperties *props, sd_bus_error *error);
/* Pod.Exec's options a(sv): Environment (as), added to the app's. */
int bus_read_exec_options(sd_bus_message *m, char ***env, sd_bus_error *error);
/* The lifecycle calls of a pod, shared by the Manager's and the Pod's
 * methods and by a call that waited in the pod's queue: authorize, queue
 * behind an operation in flight, else check (pod_start_check(),
 * pod_stop_check(), pod_remove_check()) and hand to daemon_pod_start() or
 * daemon_pod_stop(); a refusal is named through the pod scope. */
int bus_pod_start(Daemon *d, Pod *p, const AppStdin *in, sd_bus_message *m, sd_bus_error *error);
/* bus_pod_start() for call m, StartPod's or StartPodWithStdin's (whose
 * stdin it reads again): a call that waited in the pod's queue. */
int bus_pod_start_call(Daemon *d, Pod *p, sd_bus_message *m, sd_bus_error *error);
int bus_pod_stop(Daemon *d, Pod *p, sd_bus_message *m, sd_bus_error *error);
int bus_pod_remove(Daemon *d, Pod *p, uint64_t flags, sd_bus_message *m, sd_bus_error *error);
/* What RemovePod does to a pod that is not running (its networks, its
 * files, the bus object): 0 when the pod is gone, and call is answered
 * once its files are deleted; < 0 with error set, call not answered. */
int bus_pod_remove_stopped(Daemon *d, Pod *p, uint64_t flags, sd_bus_message *call, sd_bus_error *error);

/* Apps in a pod: the methods of org.peapod1.Pod (daemon-app.c) and the
 * work in flight behind them (daemon-app-core.c, daemon-app.h). */
int bus_pod_method_add_app(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_pod_method_start_app(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_pod_method_stop_app(sd_bus_message *m, void *userdata, sd_bus_error *error);
typedef struct AppStop AppStop;
void daemon_app_stops_free(Daemon *d);
typedef struct AppStartOp AppStartOp;
/* An app of p is starting (StartApp, AddApp with start): the pod's
 * lifecycle calls wait for it (daemon_pod_busy()). */
bool daemon_pod_app_starting(Daemon *d, const Pod *p);
void daemon_app_starts_free(Daemon *d);
int bus_pod_method_remove_app(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_pod_method_get_app(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_pod_method_kill(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_pod_method_exec(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_pod_method_set_app_resources(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_pod_method_kill_exec(sd_bus_message *m, void *userdata, sd_bus_error *error);
typedef struct ExecProcess ExecProcess;
/* Kills the execs still running (the daemon's end). */
void daemon_execs_free(Daemon *d);

/* Images and jobs (daemon-image.c, daemon-job.c). */
extern const sd_bus_vtable image_vtable[];
int image_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                      sd_bus_error *error);
int image_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error);
int bus_method_pull_image(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_method_pull_image_with_auth(sd_bus_message *m, void *userdata, sd_bus_error *error);
/* PullImageWithAuth's credentials (daemon-pull-auth.c): never written to
 * disk, wiped by pull_credentials_done(). */
typedef struct PullCredentials {
        char *username, *password, *registry_token, *identity_token;
} PullCredentials;
#define PULL_CREDENTIAL_MAX 4096
void pull_credentials_done(PullCredentials *c);
/* Reads its a(sv): Username and Password (s, both or neither), or
 * RegistryToken (s, a bearer token, visible ASCII), or IdentityToken (s,
 * an OAuth2 refresh token), each at most PULL_CREDENTIAL_MAX bytes; c is
 * filled as far as read (pull_credentials_done() it also on failure). */
int bus_read_pull_credentials(sd_bus_message *m, PullCredentials *c, sd_bus_error *error);
int bus_method_list_images(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_method_get_image(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_method_remove_image(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_method_tag_image(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_method_prune_images(sd_bus_message *m, void *userdata, sd_bus_error *error);
void daemon_image_waiting_free(Daemon *d);
int bus_method_import_image(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_method_import_image_with_signature(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_method_export_image(sd_bus_message *m, void *userdata, sd_bus_error *error);
