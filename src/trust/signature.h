/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

#include "error.h"
#include "macro.h"

/* The containers "simple signing" payload, what skopeo and podman sign:
 *   {"critical": {"type": "atomic container signature",
 *                 "image": {"docker-manifest-digest": "sha256:..."},
 *                 "identity": {"docker-reference": "registry/repo:tag"}},
 *    "optional": {"creator": "...", "timestamp": N}}
 * It arrives inside a signature that is not yet known to be trusted: parsed
 * with bounds, and every field checked for type. */

#define SIMPLE_SIGNATURE_TYPE "atomic container signature"
#define SIMPLE_SIGNATURE_SIZE_MAX (64 * 1024)
#define SIMPLE_SIGNATURE_DEPTH_MAX 8

typedef struct SimpleSignature {
        char *docker_reference;
        char *manifest_digest; /* "sha256:<hex>" */
} SimpleSignature;

SimpleSignature *simple_signature_free(SimpleSignature *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(SimpleSignature *, simple_signature_free);

int simple_signature_parse(const void *data, size_t size, SimpleSignature **ret, PeapodError *e);
/* The payload for reference and digest, as JSON text. */
int simple_signature_format(const char *reference, const char *manifest_digest, char **ret);
