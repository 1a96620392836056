/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* peapod-cri: the CRI (kubelet's RuntimeService and ImageService) served
 * over gRPC (grpc-server.c) and mapped onto peapodd's D-Bus API. It is a
 * plain client of peapodd: what it keeps is peapodd's (a cache of the
 * pods for the lists, kept by peapodd's signals). */

#include <protobuf-c/protobuf-c.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "cri.pb-c.h"
#include "grpc-server.h"
#include "streaming.h"

#define CRI_SOCKET_PATH PEAPOD_RUNTIME_DIR "/cri.sock"
#define CRI_IMAGES_DIR PEAPOD_STATE_DIR "/images"
/* The journal cursors of the containers' CRI log files (cri-logs.c). */
#define CRI_LOGS_STATE_DIR PEAPOD_STATE_DIR "/cri/logs"
/* How long a call waits for peapodd when kubelet gave no deadline. */
#define CRI_BUS_TIMEOUT_USEC (5ULL * 1000000ULL)

/* The CRI's two API versions share their messages' wire shape; a call
 * knows which one the client spoke by its path. */
typedef enum CriApi {
        CRI_API_V1,
        CRI_API_V1ALPHA2,
        _CRI_API_MAX,
        _CRI_API_INVALID = -EINVAL,
} CriApi;

typedef struct Cri {
        sd_event *event;
        sd_bus *bus;            /* the system bus; NULL until connected (again) */
        struct CriQuery *detached;      /* chains that outlive their calls (cri_query_detach()) */
        GrpcServer *server;
        const char *images_dir;
        const char *cni_conf_dir;
        /* The containers' CRI log files (cri-logs.c). */
        const char *logs_state_dir;
        struct CriLog *crilog;
        sd_event_source *logs_timer;
        sd_bus_slot *logs_slot;
        char **logs_settled;
        StreamServer *streaming;        /* Exec/PortForward's URLs; NULL: not started */
        char *pod_cidr;         /* UpdateRuntimeConfig's, recorded (pods get their addresses from CNI) */
        struct CriCache *cache; /* the sandboxes, for the lists (cri-cache.c) */
        struct CriDisk *disk;   /* the writable layers' sizes (cri-disk.c) */
} Cri;

typedef struct CriCache CriCache;
/* Follows peapodd's pods (cri-cache.c): the matches, and a first fill. */
int cri_cache_start(Cri *cri);
CriCache *cri_cache_free(CriCache *c);

/* The writable layer of a container (its app's overlay upper dir), as the
 * last walk measured it (cri-disk.c): 1 with the figures, 0 while none has
 * (a walk off the loop is asked for, as when the figure is old). */
typedef struct CriDisk CriDisk;
int cri_disk_usage(Cri *cri, const char *container_id, const char *app_name, uint64_t *ret_bytes, uint64_t *ret_inodes);
CriDisk *cri_disk_free(CriDisk *d);

typedef int (*CriHandler)(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request);

typedef struct CriMethod {
        const char *name;                               /* "RuntimeService/Version" */
        const ProtobufCMessageDescriptor *request;
        CriHandler handler;                             /* NULL: answered UNIMPLEMENTED */
        const char *missing;                            /* why it is not there (with handler NULL) */
} CriMethod;

int cri_new(sd_event *event, Cri **ret);
/* The log converter: started by cri_new(), stopped (cursors committed) by cri_free(). */
int cri_logs_start(Cri *cri);
void cri_logs_stop(Cri *cri);
Cri *cri_free(Cri *cri);
DEFINE_TRIVIAL_CLEANUP_FUNC(Cri *, cri_free);

/* Resolves "/runtime.v1.RuntimeService/Version" (or runtime.v1alpha2). */
const CriMethod *cri_method_lookup(const char *path, CriApi *ret_api);

/* Answers call with m (packed here) and OK. */
int cri_reply(GrpcCall *call, const ProtobufCMessage *m);
/* The system bus, connected (again) if it was not; -errno if it cannot be. */
int cri_bus(Cri *cri, sd_bus **ret);

/* A call to peapodd made for a gRPC call, answered asynchronously. The
 * handler runs with peapodd's reply (an error reply included) unless the
 * client cancelled first, in which case the bus call is cancelled too. A
 * handler may send the next bus call with the same query (a chain); a
 * handler's negative return fails the gRPC call (INTERNAL). */
typedef struct CriQuery CriQuery;
typedef int (*CriQueryHandler)(CriQuery *q, sd_bus_message *reply);
struct CriQuery {
        Cri *cri;
        GrpcCall *call;
        sd_bus_slot *slot;
        sd_event_source *timer; /* a pause of the chain (cri_query_sleep()) */
        CriQueryHandler handler;
        /* The longest a bus call of the chain may take; 0: CRI_BUS_TIMEOUT_USEC
         * (StopPod waits for the apps' stop timeouts). */
        uint64_t bus_timeout_usec;
        /* What the chain's handlers carry along. */
        bool list;              /* ListImages with a filter: answer a list of one */
        void *data;             /* freed with data_free */
        void (*data_free)(void *data);
        /* cri_query_detach(): in cri->detached, runs to its end. */
        bool detached;
        CriQuery *detached_prev, *detached_next;
        bool verbose;           /* ImageStatus, ContainerStatus: with info */
        sd_bus_slot *match;     /* a signal the chain waits for (dropped with the query) */
};

CriQuery *cri_query_new(Cri *cri, GrpcCall *call);
CriQuery *cri_query_free(CriQuery *q);
DEFINE_TRIVIAL_CLEANUP_FUNC(CriQuery *, cri_query_free);
/* Sends a method call to peapodd (types and arguments as for
 * sd_bus_message_append()). On success the query belongs to the pending
 * call; on failure to the caller. */
int cri_query_call(CriQuery *q, const char *path, const char *interface, const char *member,
                   CriQueryHandler handler, const char *types, ...);
/* The same in two steps, for arguments that appendv cannot build: a method
 * call to peapodd, then its sending (the query belongs to it on success). */
int cri_query_new_method(CriQuery *q, const char *path, const char *interface, const char *member,
                         sd_bus_message **ret);
int cri_query_send(CriQuery *q, sd_bus_message *m, CriQueryHandler handler);
/* The chain runs to its end when the client cancels or its deadline
 * passes (its answer is then dropped): a stop or a removal that was begun
 * is finished, never left half done. Its bus calls get the chain's full
 * timeout; cri_free() frees what is still pending. */
void cri_query_detach(CriQuery *q);
/* Runs handler (with a NULL message) after usec, as the next step of a chain. */
int cri_query_sleep(CriQuery *q, uint64_t usec, CriQueryHandler handler);
/* Answers call for a bus call to peapodd that could not be sent (error:
 * cri_query_call()'s, cri_bus()'s): RESOURCE_EXHAUSTED when out of memory,
 * else UNAVAILABLE (no system bus, or it went away) with why. Every
 * handler's failed first call ends here. */
int cri_fail_unreachable(GrpcCall *call, int error);
/* The status a gRPC call gets for peapodd's error reply. */
GrpcStatus cri_status_from_bus_error(const sd_bus_error *e);

/* A container id is its pod's id and its app's id, 32 hex digits each
 * (a sandbox id is the pod id). -EINVAL for anything else. */
int cri_container_id_parse(const char *id, char ret_pod[static 33], char ret_app[static 33]);

/* A PullImage's AuthConfig as a registry token (registry_token) or an
 * identity token (identity_token), each used alone, or a username and
 * password (from auth, base64 of "username:password", else
 * username/password); all NULL: none. -EINVAL with *ret_problem saying
 * why (never quoting the secret). */
int cri_auth_credentials(const Runtime__V1__AuthConfig *a, char **ret_username, char **ret_password,
                         char **ret_registry_token, char **ret_identity_token, const char **ret_problem);

/* Handlers, by service. */
int cri_runtime_version(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request);
int cri_runtime_status(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request);
int cri_image_list(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request);
int cri_image_status(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request);
/* Sandboxes (cri-sandbox.c) and containers (cri-container.c). */
int cri_run_pod_sandbox(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request);
int cri_stop_pod_sandbox(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request);
int cri_remove_pod_sandbox(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request);
int cri_pod_sandbox_status(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request);
int cri_list_pod_sandbox(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request);
int cri_create_container(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request);
int cri_start_container(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request);
int cri_stop_container(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request);
int cri_remove_container(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request);
int cri_list_containers(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request);
int cri_container_status(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request);
int cri_runtime_exec(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request);
int cri_runtime_attach(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request);
int cri_runtime_port_forward(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request);
int cri_image_fs_info(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request);
int cri_exec_sync(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request);
int cri_update_container_resources(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request);
int cri_reopen_container_log(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request);
int cri_update_runtime_config(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request);
/* The log follower's part of ReopenContainerLog (kubelet rotated the
 * container's CRI log file): reopen it. The log follower (cri-logs.c)
 * reopens it if it writes it; 0 or -errno (answered INTERNAL). */
int cri_container_log_reopen(Cri *cri, const char *container_id);
int cri_container_stats(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request);
int cri_list_container_stats(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request);
int cri_pod_sandbox_stats(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request);
int cri_list_pod_sandbox_stats(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request);
int cri_image_pull(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request);
int cri_image_remove(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request);
