/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What sandboxes and containers share: ids, the annotations under which
 * peapod-cri keeps the CRI's state in peapodd's pod records, and peapodd's
 * description of a pod read from the bus.
 *
 * A sandbox is a pod (its id, 32 hex digits), a container an app of it
 * (pod id + app id, 64 hex digits, so that a container is found without a
 * search). Everything the CRI wants back (metadata, labels, annotations,
 * log paths) is in the pod's and the app's Annotations (org.peapod1(5)),
 * under the keys below; a pod without CRI_KEY_NAME is not a sandbox and
 * peapod-cri never shows it. */

#include "cri.h"

#define CRI_POD_ID_LEN 32
#define CRI_CONTAINER_ID_LEN 64

#define CRI_KEY_NAME "cri/name"
#define CRI_KEY_UID "cri/uid"
#define CRI_KEY_NAMESPACE "cri/namespace"
#define CRI_KEY_ATTEMPT "cri/attempt"
#define CRI_KEY_LOG_DIRECTORY "cri/log-directory"
#define CRI_KEY_NETWORK "cri/namespace-network"  /* "pod" or "node" */
#define CRI_KEY_PID "cri/namespace-pid"          /* "pod" or "container" */
#define CRI_KEY_HANDLER "cri/runtime-handler"
#define CRI_KEY_CGROUP_PARENT "cri/cgroup-parent"  /* kubelet's, recorded: pods live in peapod's own slice */
#define CRI_KEY_PRIVILEGED "cri/privileged"      /* "true": the sandbox's privileged, which lets its containers be */
#define CRI_KEY_IMAGE "cri/image"                /* the image as kubelet named it */
#define CRI_KEY_IMAGE_REF "cri/image-ref"        /* its id */
#define CRI_KEY_CREATED "cri/created"            /* ns since the epoch */
#define CRI_KEY_LOG_PATH "cri/log-path"          /* the full path */
#define CRI_KEY_MOUNTS "cri/mounts"              /* JSON: [[container_path, host_path, readonly], ...] */
#define CRI_PREFIX_LABEL "cri/label/"
#define CRI_PREFIX_ANNOTATION "cri/annotation/"

bool cri_hex_id_is_valid(const char *s, size_t len);
static inline bool cri_char_is_alnum(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
/* a and b in a new string; NULL when out of memory. */
char *cri_strjoin(const char *a, const char *b);

/* Pairs (key, value, ...) as peapodd keeps them. */
int cri_pairs_add(char ***pairs, const char *prefix, const char *key, const char *value);
const char *cri_pairs_get(char **pairs, const char *key);
/* a{ss} into pairs. */
int cri_read_pairs(sd_bus_message *m, char ***ret);
/* Appends the pairs as a property (s "Annotations", v a{ss}) of an a(sv). */
int cri_append_annotations_property(sd_bus_message *m, char **pairs);

/* What protoc-c makes of a map<string, string> entry. */
typedef struct CriMapEntry {
        ProtobufCMessage base;
        char *key;
        char *value;
} CriMapEntry;
/* Whether every key, value of the selector (pairs) is among the labels
 * kept in pairs (under CRI_PREFIX_LABEL). */
bool cri_selector_match(char **pairs, char **selector);
/* A protobuf map (a filter's label_selector) into pairs. */
int cri_map_to_pairs(void **entries, size_t n, char ***ret);

/* Everything allocated for one answer, freed at once. */
typedef struct CriArena {
        void **ptrs;
        size_t n;
} CriArena;
void *cri_arena_add(CriArena *a, void *p);   /* returns p; frees it and returns NULL when out of memory */
void *cri_arena_new(CriArena *a, size_t size);
char *cri_arena_strdup(CriArena *a, const char *s);
void cri_arena_done(CriArena *a);

/* A protobuf map (entries of descriptor d) of the pairs under prefix
 * (prefix removed); allocated in the arena. */
int cri_pairs_to_map(CriArena *a, char **pairs, const char *prefix, const ProtobufCMessageDescriptor *d,
                     void ***ret, size_t *ret_n);

typedef struct CriApp {
        char *name, *id, *image, *state, *result;
        int32_t status;
        char **annotations;
} CriApp;

/* A pod as its properties say. */
typedef struct CriPod {
        char *id, *state, *network_mode, *ip;
        uint64_t created_usec;
        char **annotations;
        CriApp *apps;
        size_t n_apps;
        bool has_app_annotations;
} CriPod;

void cri_pod_done(CriPod *p);
/* The CRI metadata kept in a sandbox's or a container's annotations;
 * allocated in the arena, NULL when out of memory. */
Runtime__V1__PodSandboxMetadata *cri_sandbox_metadata(CriArena *a, const CriPod *p);
Runtime__V1__ContainerMetadata *cri_container_metadata(CriArena *a, char **annotations);
/* a{sv} of org.peapod1.Pod (GetAll, or one interface of GetManagedObjects). */
int cri_pod_read(sd_bus_message *m, CriPod *ret);
/* The same, onto what p already says (PropertiesChanged's changed
 * properties); on failure p is partly updated. */
int cri_pod_update(sd_bus_message *m, CriPod *p);
/* GetManagedObjects: every pod that is a sandbox. */
int cri_pods_read_managed(sd_bus_message *m, CriPod **ret, size_t *ret_n);
void cri_pods_free(CriPod *pods, size_t n);
bool cri_pod_is_sandbox(const CriPod *p);

int cri_fail_from_bus(CriQuery *q, const sd_bus_error *e);
/* An a{sv} reply (Properties.GetAll, GetApp), read again from the start,
 * as one JSON object: the verbose info of ImageStatus, PodSandboxStatus
 * and ContainerStatus, under "info" as containerd puts it. Types other
 * than s, t, i, u, b, as and a{ss} are left out. */
int cri_properties_to_json(sd_bus_message *m, char **ret);

/* What ListPodSandbox and ListContainers filter on (either's filter). */
typedef struct CriListFilter CriListFilter;
typedef int (*CriListAnswer)(GrpcCall *call, const CriPod *pods, size_t n_pods, const CriListFilter *f);
struct CriListFilter {
        char *id;               /* a prefix of the sandbox's or container's id */
        char *pod_sandbox_id;   /* a prefix of the container's sandbox id */
        bool has_state;
        int state;              /* a PodSandboxState or a ContainerState */
        char **selector;        /* pairs: labels that must match */
        /* For a list that waits for peapodd (cri-cache.c). */
        CriListAnswer answer;
        uint64_t generation;
};
int cri_list_filter_new(const char *id, const char *pod_sandbox_id, bool has_state, int state, void **selector,
                        size_t n_selector, CriListFilter **ret);
CriListFilter *cri_list_filter_free(CriListFilter *f);
DEFINE_TRIVIAL_CLEANUP_FUNC(CriListFilter *, cri_list_filter_free);
/* Answers call with answer() over the sandboxes: from the cache that
 * peapodd's signals keep (cri-cache.c), or, while it is not filled, from
 * a GetManagedObjects (which fills it). Takes filter. */
int cri_list(Cri *cri, GrpcCall *call, CriListFilter *filter, CriListAnswer answer);
/* The cache's sandboxes (valid until the loop runs again): 1, or 0 while
 * it is not filled (a fill is under way then). */
int cri_cache_pods(Cri *cri, const CriPod **ret_pods, size_t *ret_n);
int64_t cri_usec_to_ns(uint64_t usec);
