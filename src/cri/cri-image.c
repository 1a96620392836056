/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ImageService methods. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

#include "peapod-bus.h"
#include "cri.h"
#include "cri-pod.h"
#include "json-util.h"
#include "log.h"
#include "reference.h"
#include "string-util.h"
#include "strv.h"

/* statvfs of the image store's file system; while the store does not
 * exist yet, of the nearest directory above it (the file system it will
 * be on). kubelet calls this on every connect, so it must not fail. */
static int images_statvfs(const char *dir, struct statvfs *ret) {
        _cleanup_free_ char *p = strdup(dir);

        if (!p)
                return -ENOMEM;
        for (;;) {
                char *slash;

                if (statvfs(p, ret) >= 0)
                        return 0;
                if (errno != ENOENT && errno != ENOTDIR)
                        return -errno;
                slash = strrchr(p, '/');
                if (!slash || slash == p)
                        return RET_NERRNO(statvfs("/", ret));
                *slash = 0;
        }
}

int cri_image_fs_info(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request) {
        Runtime__V1__ImageFsInfoResponse resp = RUNTIME__V1__IMAGE_FS_INFO_RESPONSE__INIT;
        Runtime__V1__FilesystemUsage usage = RUNTIME__V1__FILESYSTEM_USAGE__INIT;
        Runtime__V1__FilesystemUsage *usages[] = { &usage };
        Runtime__V1__FilesystemIdentifier fs_id = RUNTIME__V1__FILESYSTEM_IDENTIFIER__INIT;
        Runtime__V1__UInt64Value used_bytes = RUNTIME__V1__UINT64_VALUE__INIT,
                                 inodes_used = RUNTIME__V1__UINT64_VALUE__INIT;
        struct statvfs sv;
        struct timespec ts;
        int r;

        r = images_statvfs(cri->images_dir, &sv);
        if (r < 0)
                return grpc_call_fail(call, GRPC_STATUS_INTERNAL, "cannot read the usage of %s: %s", cri->images_dir,
                                      strerror(-r));
        (void) clock_gettime(CLOCK_REALTIME, &ts);
        usage.timestamp = (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
        fs_id.mountpoint = (char *) cri->images_dir;
        usage.fs_id = &fs_id;
        used_bytes.value = (uint64_t) (sv.f_blocks - sv.f_bfree) * sv.f_frsize;
        usage.used_bytes = &used_bytes;
        inodes_used.value = (uint64_t) (sv.f_files - sv.f_ffree);
        usage.inodes_used = &inodes_used;
        resp.n_image_filesystems = ELEMENTSOF(usages);
        resp.image_filesystems = usages;
        return cri_reply(call, &resp.base);
}

/* What the CRI's Image says, as peapodd describes an image. */
typedef struct CriImage {
        char *id;
        char *digest;           /* the manifest's */
        char *user;
        char **names;
        uint64_t size;
} CriImage;

static void cri_image_done(CriImage *i) {
        free(i->id);
        free(i->digest);
        free(i->user);
        strv_free(i->names);
        *i = (CriImage) {};
}

/* A name's repository: the name without its tag or digest. */
static char *name_repository(const char *name) {
        const char *at = strchr(name, '@'), *slash = strrchr(name, '/'), *colon;

        if (at)
                return strndup(name, (size_t) (at - name));
        colon = strrchr(name, ':');
        /* A colon before the last slash belongs to a registry's port. */
        if (colon && (!slash || colon > slash))
                return strndup(name, (size_t) (colon - name));
        return strdup(name);
}

/* Fills *img (whose strings point into i and into *ret_digests, which the
 * caller frees). The image's user becomes uid when numeric, else
 * username (its group is not the CRI's business), as containerd does. */
static int cri_image_to_proto(const CriImage *i, Runtime__V1__Image *img, Runtime__V1__Int64Value *uid,
                              char ***ret_tags, char ***ret_digests) {
        _cleanup_strv_free_ char **tags = NULL, **digests = NULL;
        _cleanup_free_ char *user = NULL;
        int r;

        FOREACH_STRV(n, i->names) {
                if (strchr(n, '@')) {
                        r = strv_extend(&digests, n);
                        if (r < 0)
                                return r;
                        continue;
                }
                r = strv_extend(&tags, n);
                if (r < 0)
                        return r;
                if (!isempty(i->digest)) {
                        _cleanup_free_ char *repo = name_repository(n), *d = NULL;

                        if (!repo || asprintf(&d, "%s@%s", repo, i->digest) < 0)
                                return -ENOMEM;
                        if (!strv_contains(digests, d)) {
                                r = strv_consume(&digests, TAKE_PTR(d));
                                if (r < 0)
                                        return r;
                        }
                }
        }
        img->id = i->id;
        img->size = i->size;
        img->n_repo_tags = strv_length(tags);
        img->repo_tags = tags;
        img->n_repo_digests = strv_length(digests);
        img->repo_digests = digests;
        if (uid && !isempty(i->user)) {
                char *colon = strchr(i->user, ':'), *end;
                long long v;

                if (colon)
                        *colon = 0;     /* i->user is ours */
                errno = 0;
                v = strtoll(i->user, &end, 10);
                if (errno == 0 && end != i->user && *end == 0 && v >= 0) {
                        uid->value = v;
                        img->uid = uid;
                } else
                        img->username = i->user;
        }
        *ret_tags = TAKE_PTR(tags);
        *ret_digests = TAKE_PTR(digests);
        return 0;
}

static int read_strv(sd_bus_message *m, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        const char *s;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "s");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(m, "s", &s)) > 0) {
                r = strv_extend(&l, s);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(l);
        return 0;
}

static int read_string(sd_bus_message *m, char **ret) {
        const char *s;
        int r = sd_bus_message_read(m, "s", &s);

        if (r < 0)
                return r;
        free(*ret);
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

/* Properties.GetAll of an org.peapod1.Image. */
static int cri_image_read_properties(sd_bus_message *m, CriImage *ret) {
        CriImage i = {};
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *name;

                r = sd_bus_message_read(m, "s", &name);
                if (r < 0)
                        break;
                if (streq(name, "Id") || streq(name, "Digest") || streq(name, "User")) {
                        r = sd_bus_message_enter_container(m, 'v', "s");
                        if (r >= 0)
                                r = read_string(m, streq(name, "Id") ? &i.id : streq(name, "Digest") ? &i.digest : &i.user);
                } else if (streq(name, "Names")) {
                        r = sd_bus_message_enter_container(m, 'v', "as");
                        if (r >= 0) {
                                strv_free(i.names);
                                i.names = NULL;
                                r = read_strv(m, &i.names);
                        }
                } else if (streq(name, "Size")) {
                        r = sd_bus_message_enter_container(m, 'v', "t");
                        if (r >= 0)
                                r = sd_bus_message_read(m, "t", &i.size);
                } else {
                        r = sd_bus_message_skip(m, "v");
                        if (r >= 0)
                                r = sd_bus_message_exit_container(m);
                        continue;
                }
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);   /* the variant */
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);   /* the entry */
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        if (r >= 0 && !i.id)
                r = -EBADMSG;
        if (r < 0) {
                cri_image_done(&i);
                return r;
        }
        *ret = i;
        return 0;
}

static int answer_image(CriQuery *q, const CriImage *i, const char *info) {
        Runtime__V1__Image img = RUNTIME__V1__IMAGE__INIT;
        Runtime__V1__Int64Value uid = RUNTIME__V1__INT64_VALUE__INIT;
        Runtime__V1__Image *imgs[] = { &img };
        _cleanup_strv_free_ char **tags = NULL, **digests = NULL;
        int r;

        if (i) {
                r = cri_image_to_proto(i, &img, &uid, &tags, &digests);
                if (r < 0)
                        return r;
        }
        if (q->list) {
                Runtime__V1__ListImagesResponse resp = RUNTIME__V1__LIST_IMAGES_RESPONSE__INIT;

                resp.n_images = i ? 1 : 0;
                resp.images = imgs;
                return cri_reply(q->call, &resp.base);
        } else {
                Runtime__V1__ImageStatusResponse resp = RUNTIME__V1__IMAGE_STATUS_RESPONSE__INIT;
                Runtime__V1__ImageStatusResponse__InfoEntry entry = RUNTIME__V1__IMAGE_STATUS_RESPONSE__INFO_ENTRY__INIT;
                Runtime__V1__ImageStatusResponse__InfoEntry *entries[] = { &entry };

                resp.image = i ? &img : NULL;
                if (i && info) {
                        entry.key = (char *) "info";
                        entry.value = (char *) info;
                        resp.n_info = 1;
                        resp.info = entries;
                }
                return cri_reply(q->call, &resp.base);
        }
}

static int fail_from_bus(CriQuery *q, const sd_bus_error *e) {
        return grpc_call_fail(q->call, cri_status_from_bus_error(e), "peapodd: %s", e->message ?: e->name);
}

static int image_on_properties(CriQuery *q, sd_bus_message *m) {
        const sd_bus_error *e = sd_bus_message_get_error(m);
        _cleanup_free_ char *info = NULL;
        CriImage i = {};
        int r;

        /* Removed between the two calls: as if it had never been there. */
        if (e && sd_bus_error_has_name(e, SD_BUS_ERROR_UNKNOWN_OBJECT))
                return answer_image(q, NULL, NULL);
        if (e)
                return fail_from_bus(q, e);
        r = cri_image_read_properties(m, &i);
        if (r < 0)
                return r;
        if (q->verbose)
                r = cri_properties_to_json(m, &info);
        if (r >= 0)
                r = answer_image(q, &i, info);
        cri_image_done(&i);
        return r;
}

static int image_on_get(CriQuery *q, sd_bus_message *m) {
        const sd_bus_error *e = sd_bus_message_get_error(m);
        const char *path;
        int r;

        /* The CRI's answer for an image that is not there is no image, not an error. */
        if (e && sd_bus_error_has_name(e, BUS_ERROR_NO_SUCH_IMAGE))
                return answer_image(q, NULL, NULL);
        if (e)
                return fail_from_bus(q, e);
        r = sd_bus_message_read(m, "o", &path);
        if (r < 0)
                return r;
        return cri_query_call(q, path, "org.freedesktop.DBus.Properties", "GetAll", image_on_properties, "s",
                              PEAPOD_IMAGE_INTERFACE);
}

/* One image by any reference peapodd resolves (name, name:tag,
 * name@digest, id, id prefix): GetImage, then the image's properties. */
static int image_lookup(Cri *cri, GrpcCall *call, const char *reference, bool list, bool verbose) {
        _cleanup_(cri_query_freep) CriQuery *q = NULL;
        int r;

        q = cri_query_new(cri, call);
        if (!q)
                return -ENOMEM;
        q->list = list;
        q->verbose = verbose;
        r = cri_query_call(q, PEAPOD_ROOT_PATH, PEAPOD_MANAGER_INTERFACE, "GetImage", image_on_get, "s", reference);
        if (r < 0)
                return cri_fail_unreachable(call, r);
        TAKE_PTR(q);
        return 0;
}

int cri_image_status(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request) {
        const Runtime__V1__ImageStatusRequest *req = (const Runtime__V1__ImageStatusRequest *) request;

        if (!req->image || isempty(req->image->image))
                return grpc_call_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "ImageStatus needs an image");
        return image_lookup(cri, call, req->image->image, false, req->verbose);
}

static int images_on_list(CriQuery *q, sd_bus_message *m) {
        Runtime__V1__ListImagesResponse resp = RUNTIME__V1__LIST_IMAGES_RESPONSE__INIT;
        const sd_bus_error *e = sd_bus_message_get_error(m);
        Runtime__V1__Image *images = NULL, **ptrs = NULL;
        CriImage *found = NULL;
        char ***tags = NULL, ***digests = NULL;
        size_t n = 0, allocated = 0;
        int r;

        if (e)
                return fail_from_bus(q, e);
        r = sd_bus_message_enter_container(m, 'a', "(sastso)");
        while (r >= 0) {
                const char *id, *created, *path;
                uint64_t size = 0;

                r = sd_bus_message_enter_container(m, 'r', "sastso");
                if (r <= 0)
                        break;
                if (n == allocated) {
                        CriImage *f;

                        allocated = allocated ? allocated * 2 : 16;
                        f = reallocarray(found, allocated, sizeof(CriImage));
                        if (!f) {
                                r = -ENOMEM;
                                break;
                        }
                        found = f;
                }
                found[n] = (CriImage) {};
                r = sd_bus_message_read(m, "s", &id);
                if (r >= 0)
                        r = read_strv(m, &found[n].names);
                if (r >= 0)
                        r = sd_bus_message_read(m, "tso", &size, &created, &path);
                if (r >= 0 && !(found[n].id = strdup(id)))
                        r = -ENOMEM;
                found[n].size = size;
                n++;
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(m);

        if (r >= 0) {
                images = calloc(n ?: 1, sizeof(*images));
                ptrs = calloc(n ?: 1, sizeof(*ptrs));
                tags = calloc(n ?: 1, sizeof(*tags));
                digests = calloc(n ?: 1, sizeof(*digests));
                if (!images || !ptrs || !tags || !digests)
                        r = -ENOMEM;
        }
        for (size_t k = 0; r >= 0 && k < n; k++) {
                /* ListImages does not carry the user (it would cost a call
                 * per image); ImageStatus does. */
                runtime__v1__image__init(&images[k]);
                r = cri_image_to_proto(&found[k], &images[k], NULL, &tags[k], &digests[k]);
                ptrs[k] = &images[k];
        }
        if (r >= 0) {
                resp.n_images = n;
                resp.images = ptrs;
                r = cri_reply(q->call, &resp.base);
        }
        for (size_t k = 0; k < n; k++) {
                cri_image_done(&found[k]);
                if (tags)
                        strv_free(tags[k]);
                if (digests)
                        strv_free(digests[k]);
        }
        free(found);
        free(images);
        free(ptrs);
        free(tags);
        free(digests);
        return r;
}

int cri_image_list(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request) {
        const Runtime__V1__ListImagesRequest *req = (const Runtime__V1__ListImagesRequest *) request;
        _cleanup_(cri_query_freep) CriQuery *q = NULL;
        int r;

        /* A filter names one image: resolved by peapodd as everywhere else. */
        if (req->filter && req->filter->image && !isempty(req->filter->image->image))
                return image_lookup(cri, call, req->filter->image->image, true, false);

        q = cri_query_new(cri, call);
        if (!q)
                return -ENOMEM;
        r = cri_query_call(q, PEAPOD_ROOT_PATH, PEAPOD_MANAGER_INTERFACE, "ListImages", images_on_list, NULL);
        if (r < 0)
                return cri_fail_unreachable(call, r);
        TAKE_PTR(q);
        return 0;
}

/* PullImage: peapodd's pull job ends with Manager.JobRemoved, which the
 * query waits for (matched before the call: the bus delivers our AddMatch
 * before the call, so the signal cannot be missed). The job is peapodd's:
 * a client that cancels or disconnects only stops waiting; the pull goes
 * on and its image is there for the next PullImage. */
static int pull_on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        CriQuery *q = userdata;
        const char *path, *state, *result, *message;
        uint32_t id;
        int r;

        if (!q->data)
                return 0;       /* not started yet: another client's job */
        r = sd_bus_message_read(m, "uosss", &id, &path, &state, &result, &message);
        if (r < 0 || !streq(path, q->data))
                return 0;
        if (streq(state, "done")) {
                Runtime__V1__PullImageResponse resp = RUNTIME__V1__PULL_IMAGE_RESPONSE__INIT;

                resp.image_ref = (char *) result;
                r = cri_reply(q->call, &resp.base);
        } else
                r = grpc_call_fail(q->call, streq(state, "canceled") ? GRPC_STATUS_ABORTED : GRPC_STATUS_UNKNOWN,
                                   "pulling the image failed: %s", isempty(message) ? state : message);
        if (r < 0)
                log_debug_errno(r, "Failed to answer PullImage: %m");
        cri_query_free(q);
        return 0;
}

static int pull_on_started(CriQuery *q, sd_bus_message *m) {
        const sd_bus_error *e = sd_bus_message_get_error(m);
        const char *path;
        int r;

        if (e) {
                q->match = sd_bus_slot_unref(q->match);
                return fail_from_bus(q, e);
        }
        r = sd_bus_message_read(m, "o", &path);
        if (r < 0)
                return r;
        q->data = strdup(path);
        if (!q->data)
                return -ENOMEM;
        q->data_free = free;
        return 0;       /* q->match keeps the query until JobRemoved */
}

/* The AuthConfig's credentials: username and password, or auth
 * (base64 of "username:password", as in docker's config). The secret is
 * never put in a message or a log line. */
int cri_auth_credentials(const Runtime__V1__AuthConfig *a, char **ret_username, char **ret_password,
                         char **ret_registry_token, char **ret_identity_token, const char **ret_problem) {
        _cleanup_free_ char *decoded = NULL;
        size_t size;
        char *colon;

        *ret_username = *ret_password = *ret_registry_token = *ret_identity_token = NULL;
        if (!a)
                return 0;
        /* A token goes alone: the bearer token itself, else an OAuth2
         * refresh token to trade for one (as containerd prefers it to a
         * password). */
        if (!isempty(a->registry_token)) {
                *ret_registry_token = strdup(a->registry_token);
                return *ret_registry_token ? 0 : -ENOMEM;
        }
        if (!isempty(a->identity_token)) {
                *ret_identity_token = strdup(a->identity_token);
                return *ret_identity_token ? 0 : -ENOMEM;
        }
        if (!isempty(a->auth)) {
                if (base64_decode(a->auth, &decoded, &size) < 0 || strlen(decoded) != size ||
                    !(colon = strchr(decoded, ':'))) {
                        if (decoded)
                                explicit_bzero(decoded, strlen(decoded));
                        *ret_problem = "auth is not base64 of \"username:password\"";
                        return -EINVAL;
                }
                *colon = 0;
                *ret_username = strdup(decoded);
                *ret_password = strdup(colon + 1);
                explicit_bzero(colon + 1, strlen(colon + 1));
        } else if (!isempty(a->username) || !isempty(a->password)) {
                *ret_username = strdup(strempty(a->username));
                *ret_password = strdup(strempty(a->password));
        } else
                return 0;
        if (!*ret_username || !*ret_password) {
                free(*ret_username);
                free(*ret_password);
                *ret_username = *ret_password = NULL;
                return -ENOMEM;
        }
        return 0;
}

int cri_image_pull(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request) {
        const Runtime__V1__PullImageRequest *req = (const Runtime__V1__PullImageRequest *) request;
        _cleanup_(cri_query_freep) CriQuery *q = NULL;
        _cleanup_free_ char *username = NULL, *password = NULL, *token = NULL, *identity = NULL;
        const char *problem = NULL;
        sd_bus *bus;
        int r;

        if (!req->image || isempty(req->image->image))
                return grpc_call_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "PullImage needs an image");
        r = cri_auth_credentials(req->auth, &username, &password, &token, &identity, &problem);
        if (r == -EINVAL)
                return grpc_call_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "PullImage: %s", problem);
        if (r < 0)
                return r;
        q = cri_query_new(cri, call);
        if (!q)
                return -ENOMEM;
        r = cri_bus(cri, &bus);
        if (r >= 0)
                r = sd_bus_match_signal_async(bus, &q->match, PEAPOD_BUS_NAME, PEAPOD_ROOT_PATH, PEAPOD_MANAGER_INTERFACE,
                                              "JobRemoved", pull_on_job_removed, NULL, q);
        /* Flags 0: the trust policy decides (the CRI has no signature field). */
        if (r >= 0 && username)
                r = cri_query_call(q, PEAPOD_ROOT_PATH, PEAPOD_MANAGER_INTERFACE, "PullImageWithAuth", pull_on_started,
                                   "sa(sv)t", req->image->image, 2, "Username", "s", username, "Password", "s", password,
                                   UINT64_C(0));
        else if (r >= 0 && (token || identity))
                r = cri_query_call(q, PEAPOD_ROOT_PATH, PEAPOD_MANAGER_INTERFACE, "PullImageWithAuth", pull_on_started,
                                   "sa(sv)t", req->image->image, 1, token ? "RegistryToken" : "IdentityToken", "s",
                                   token ?: identity, UINT64_C(0));
        else if (r >= 0)
                r = cri_query_call(q, PEAPOD_ROOT_PATH, PEAPOD_MANAGER_INTERFACE, "PullImage", pull_on_started, "st",
                                   req->image->image, UINT64_C(0));
        if (password)
                explicit_bzero(password, strlen(password));
        if (token)
                explicit_bzero(token, strlen(token));
        if (identity)
                explicit_bzero(identity, strlen(identity));
        if (r < 0)
                return cri_fail_unreachable(call, r);
        TAKE_PTR(q);
        return 0;
}

/* RemoveImage removes the image, whatever name it was given by (as
 * containerd does): GetImage, then Manager.RemoveImage of its id (the last
 * element of its object path, org.peapod1(5)), which takes every name. An
 * image that is not there is no error; one that a pod uses is
 * FAILED_PRECONDITION, naming the pods. */
static int remove_on_removed(CriQuery *q, sd_bus_message *m) {
        Runtime__V1__RemoveImageResponse resp = RUNTIME__V1__REMOVE_IMAGE_RESPONSE__INIT;
        const sd_bus_error *e = sd_bus_message_get_error(m);

        if (e && !sd_bus_error_has_name(e, BUS_ERROR_NO_SUCH_IMAGE))
                return fail_from_bus(q, e);
        return cri_reply(q->call, &resp.base);
}

static int remove_on_get(CriQuery *q, sd_bus_message *m) {
        Runtime__V1__RemoveImageResponse resp = RUNTIME__V1__REMOVE_IMAGE_RESPONSE__INIT;
        const sd_bus_error *e = sd_bus_message_get_error(m);
        _cleanup_free_ char *id = NULL;
        const char *path, *hex;
        int r;

        if (e && sd_bus_error_has_name(e, BUS_ERROR_NO_SUCH_IMAGE))
                return cri_reply(q->call, &resp.base);
        if (e)
                return fail_from_bus(q, e);
        r = sd_bus_message_read(m, "o", &path);
        if (r < 0)
                return r;
        hex = startswith(path, PEAPOD_IMAGE_PATH_PREFIX "/");
        if (!hex || strlen(hex) != 64)
                return -EBADMSG;
        if (asprintf(&id, "sha256:%s", hex) < 0)
                return -ENOMEM;
        return cri_query_call(q, PEAPOD_ROOT_PATH, PEAPOD_MANAGER_INTERFACE, "RemoveImage", remove_on_removed, "st", id,
                              UINT64_C(0));
}

int cri_image_remove(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request) {
        const Runtime__V1__RemoveImageRequest *req = (const Runtime__V1__RemoveImageRequest *) request;
        _cleanup_(cri_query_freep) CriQuery *q = NULL;
        int r;

        if (!req->image || isempty(req->image->image))
                return grpc_call_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "RemoveImage needs an image");
        q = cri_query_new(cri, call);
        if (!q)
                return -ENOMEM;
        r = cri_query_call(q, PEAPOD_ROOT_PATH, PEAPOD_MANAGER_INTERFACE, "GetImage", remove_on_get, "s", req->image->image);
        if (r < 0)
                return cri_fail_unreachable(call, r);
        TAKE_PTR(q);
        return 0;
}
