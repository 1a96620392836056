/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"
#include "reference.h"

/* A client of the Docker/OCI distribution v2 API (pull side only) on libcurl:
 * manifests by tag or digest, blobs streamed to a caller's sink with
 * streaming sha256 verification, several blobs at once, bearer token and
 * basic auth, redirects, retries with backoff and resumption. */


/* Manifests are small JSON documents; anything larger is refused while it
 * arrives, not after it has been buffered. */
#define REGISTRY_MANIFEST_MAX (4U * 1024U * 1024U)

typedef struct RegistryClient RegistryClient;

typedef struct RegistryClientOptions {
        /* Borrowed, must outlive the client. NULL: nothing insecure, anonymous. */
        const RegistriesConf *config;
        const AuthFile *auth;
        /* A bearer token for every request to bearer_registry (the CRI's
         * registry_token), sent instead of any credentials and never
         * traded for another: a 401 is then a refusal. Or an identity
         * token (the CRI's identity_token, docker's "identitytoken"): an
         * OAuth2 refresh token, traded at the registry's token realm
         * (POST, grant_type=refresh_token) for the access tokens of
         * bearer_registry, instead of any credentials. Not both. Borrowed. */
        const char *bearer_registry, *bearer_token, *identity_token;
        /* A CA bundle replacing the system's (tests); NULL = system default. */
        const char *ca_file;
        /* Blob transfers running at once; 0 = 4. */
        unsigned max_connections;
        /* Attempts per request on 5xx, 429, dropped connections and stalls; 0 = 4. */
        unsigned max_tries;
        /* First retry delay, doubled each time; 0 = 200 ms. */
        uint64_t retry_delay_usec;
        /* A transfer slower than low_speed_limit bytes/s for low_speed_time
         * seconds is a stall (retried). Blobs have no total timeout: a large
         * layer on a slow line is fine as long as it moves. 0 = 1024 B/s, 30 s. */
        unsigned low_speed_limit;
        unsigned low_speed_time;
        /* 0 = 30 s. */
        unsigned connect_timeout;
} RegistryClientOptions;

/* -EINVAL for a bearer_token that is not registry_token_is_valid(). */
int registry_client_new(const RegistryClientOptions *o, RegistryClient **ret);
/* A bearer token fit for an Authorization header: 1-4096 visible ASCII
 * characters (no space, no control character). */
bool registry_token_is_valid(const char *token);
RegistryClient *registry_client_free(RegistryClient *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(RegistryClient *, registry_client_free);

/* GET /v2/<repository>/manifests/<tag|digest>. accept_types: the media types
 * asked for and accepted (NULL = the four above); a Content-Type outside them
 * is -EPROTO. The body is NUL-terminated (not counted in ret_size).
 * ret_digest is "sha256:<hex>" of the body; when the reference has a digest,
 * or the registry sends Docker-Content-Digest, the body must match it
 * (-EBADMSG otherwise). All ret_* may be NULL except ret_body. */
int registry_get_manifest(RegistryClient *c, const ImageReference *ref, char * const *accept_types, char **ret_body,
                          size_t *ret_size, char **ret_content_type, char **ret_digest, PeapodError *e);

/* Where a blob's bytes go. write() gets every byte once, in order, and returns
 * 0 or -errno (which aborts the transfer). reset() discards everything written
 * so far, for a retry that must start over (a server without ranges); NULL
 * means the sink cannot start over and such a retry fails. */
typedef struct RegistrySink {
        int (*write)(const void *data, size_t size, void *userdata);
        int (*reset)(void *userdata);
        void *userdata;
} RegistrySink;

/* A sink on a file descriptor opened for writing at offset 0; reset
 * truncates it and seeks back. */
int registry_fd_sink_write(const void *data, size_t size, void *userdata);
int registry_fd_sink_reset(void *userdata);
#define REGISTRY_SINK_FD(fd)                                                                               \
        ((RegistrySink) { .write = registry_fd_sink_write, .reset = registry_fd_sink_reset,               \
                          .userdata = (void *) (intptr_t) (fd) })

/* Called as bytes arrive (index is the request's position, 0 for a single
 * blob). done can go back down when a transfer starts over. A non-zero
 * return cancels the call: every transfer of it stops and fails with
 * -ECANCELED (the others' sinks may hold partial data). */
typedef int (*RegistryProgress)(size_t index, uint64_t done, uint64_t total, void *userdata);

/* GET /v2/<repository>/blobs/<digest>, at most expected_size bytes, streamed
 * into sink while sha256 is computed; the blob must have exactly that size
 * and digest (-EBADMSG otherwise, after which the sink holds garbage). */
int registry_get_blob(RegistryClient *c, const ImageReference *ref, const char *digest, uint64_t expected_size,
                      const RegistrySink *sink, RegistryProgress progress, void *userdata, PeapodError *e);

/* GET /v2/ of registry with the client's credentials for it, as docker
 * login checks them: 0 when the registry answers 200 (through Basic or a
 * Bearer token got with them), -EACCES with the reason when it refuses
 * them. */
int registry_check_login(RegistryClient *c, const char *registry, PeapodError *e);

typedef struct RegistryBlobRequest {
        const char *digest;
        uint64_t size;
        RegistrySink sink;
        /* Out: 0 or -errno, and the message for this blob. */
        int result;
        PeapodError error;
} RegistryBlobRequest;

/* Several blobs of one repository at once (max_connections in flight). Every
 * request runs to its end even when another fails; the return value (and e)
 * is the first failure in request order. */
int registry_get_blobs(RegistryClient *c, const ImageReference *ref, RegistryBlobRequest *requests, size_t n,
                       RegistryProgress progress, void *userdata, PeapodError *e);

/* One challenge of a WWW-Authenticate header (RFC 7235). */
typedef struct AuthChallenge {
        char *scheme; /* "Bearer", "Basic", ... as sent */
        char *realm;
        char *service;
        char *scope;
        char *error;
} AuthChallenge;

#define WWW_AUTHENTICATE_MAX 8192
#define AUTH_CHALLENGES_MAX 16

void auth_challenges_free(AuthChallenge *c, size_t n);
/* Parse a header value of one or more challenges: scheme followed by
 * comma-separated name=value or name="quoted \"value\"" parameters; unknown
 * parameters and token68 forms are skipped. -EBADMSG on malformed input. */
int www_authenticate_parse(const char *header, AuthChallenge **ret, size_t *ret_n);

/* One response header line as curl hands it over ("Name: value\r\n"), for
 * the headers the client uses; a status line ("HTTP/...") starts a new
 * response. A value is cut at the line's end and never holds CR or LF;
 * one too long (REGISTRY_HEADER_VALUE_MAX, WWW_AUTHENTICATE_MAX) or a
 * number that does not parse makes the header REGISTRY_HEADER_OTHER
 * (ignored). -ENOMEM only. */
typedef enum RegistryHeaderKind {
        REGISTRY_HEADER_OTHER,
        REGISTRY_HEADER_STATUS,
        REGISTRY_HEADER_CONTENT_TYPE,
        REGISTRY_HEADER_DOCKER_CONTENT_DIGEST,
        REGISTRY_HEADER_CONTENT_RANGE,
        REGISTRY_HEADER_WWW_AUTHENTICATE,
        REGISTRY_HEADER_CONTENT_LENGTH, /* number: bytes */
        REGISTRY_HEADER_RETRY_AFTER,    /* number: microseconds, at most 10 s */
} RegistryHeaderKind;

#define REGISTRY_HEADER_VALUE_MAX 1024

typedef struct RegistryHeader {
        RegistryHeaderKind kind;
        char *value; /* the string kinds */
        uint64_t number;
} RegistryHeader;

void registry_header_done(RegistryHeader *h);
int registry_header_parse(const char *data, size_t n, RegistryHeader *ret);

/* " (CODE: message)" from the first of a registry's error body's
 * {"errors": [{"code", "message"}]}, printable ASCII only and bounded to n;
 * "" when the body is not that. */
void registry_error_body_describe(const char *body, size_t size, char *out, size_t n);

/* A token service's answer: {"token"|"access_token": "...", "expires_in": N}.
 * The token is visible ASCII (it goes into a header as it is); the lifetime
 * is expires_in clamped to [60 s, 1 day], less 10 s. -EBADMSG otherwise. */
int registry_token_parse(const char *body, size_t size, char **ret_token, uint64_t *ret_lifetime_usec);
