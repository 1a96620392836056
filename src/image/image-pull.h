/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "digest.h"
#include "error.h"
#include "macro.h"
#include "store.h"

/* Pulling an image from a registry into the store: resolve the reference,
 * fetch the manifest (through an index to the host's platform), the config
 * and the missing layers (several at once), check every layer's diff_id,
 * unpack each into layers/<chain-id>/, and point the reference at the
 * manifest. */

typedef enum PullPhase {
        PULL_PHASE_RESOLVING,   /* reference, manifest, config */
        PULL_PHASE_DOWNLOADING, /* layer blobs */
        PULL_PHASE_UNPACKING,   /* layer trees */
        PULL_PHASE_DONE,
        _PULL_PHASE_MAX,
        _PULL_PHASE_INVALID = -EINVAL,
} PullPhase;

const char *pull_phase_to_string(PullPhase p);
PullPhase pull_phase_from_string(const char *s);

typedef struct PullLayerProgress {
        Digest digest;  /* of the (compressed) blob */
        uint64_t done;  /* bytes in the store: size once present */
        uint64_t total; /* the blob's size */
        bool unpacked;
} PullLayerProgress;

typedef struct PullProgress {
        PullPhase phase;
        const char *reference;          /* fully qualified; NULL until resolved */
        uint64_t done, total;           /* sums over the layers */
        uint64_t fetched;               /* layer bytes this pull transferred (0 when all were present:
                                         * another pull, or an earlier one, did the work) */
        const PullLayerProgress *layers; /* in manifest order, bottom first */
        size_t n_layers;
} PullProgress;

/* Called from the pulling thread whenever something moved. A non-zero
 * return cancels the pull: it fails with -ECANCELED and leaves nothing
 * half done behind. */
typedef int (*PullProgressFn)(const PullProgress *p, void *userdata);

/* A check of the image a reference names, before anything of it but the
 * top-level manifest (or index) was fetched: manifest is that document's
 * digest. A negative return refuses the image (the pull fails with it and
 * nothing is stored under the reference). The trust policy is one. */
typedef int (*ImageVerifyFn)(const char *reference, const Digest *manifest, void *userdata, PeapodError *e);

typedef struct PullOptions {
        /* NULL = PEAPOD_CONF_DIR "/registries.conf" (a missing file is an
         * empty configuration). */
        const char *registries_conf;
        /* NULL = the one registries.conf names, else anonymous. */
        const char *auth_file;
        /* Credentials for the reference's registry for this pull only,
         * used instead of any auth file (the CRI's AuthConfig); both or
         * neither. Kept in memory, never written or logged. Mirrors never
         * get them. */
        const char *username, *password;
        /* Or a bearer token for the reference's registry for this pull
         * only (the CRI's registry_token), or an identity token (an OAuth2
         * refresh token, the CRI's identity_token), likewise never kept. */
        const char *registry_token, *identity_token;
        /* Allow plain HTTP for this reference's registry whatever
         * registries.conf says. */
        bool insecure;
        unsigned max_connections; /* 0 = the registry client's default */
        const char *ca_file;      /* NULL = the system's CAs */
        /* NULL = the host's platform. */
        const char *os, *architecture, *variant;
        /* NULL = no check: the caller (peapodd) decides what is trusted. */
        ImageVerifyFn verify;
        void *verify_userdata;
} PullOptions;

/* ret_image_id (may be NULL) is the image id, "sha256:<hex>" of the config,
 * like docker's. References of the registry "localhost" name local images
 * only (imported ones) and are never pulled: -ENOENT unless the store has
 * them. */
int image_pull(Store *s, const char *reference, const PullOptions *o, PullProgressFn progress, void *userdata,
               char **ret_image_id, PeapodError *e);

/* Unpack the layers of a manifest that is in the store, with its config
 * and layer blobs, into layers/<chain-id>/ where missing, checking each
 * layer's diff_id first (-EBADMSG, and nothing unpacked, on a mismatch).
 * The caller holds a store_pin(). Used by pulls and imports. progress may be
 * NULL; fired with PULL_PHASE_UNPACKING. */
int image_unpack_layers(Store *s, const Digest *manifest, PullProgressFn progress, void *userdata, PeapodError *e);
