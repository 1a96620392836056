/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "macro.h"

/* The distribution reference grammar bounds the whole name to 255 chars. */
#define IMAGE_NAME_MAX 255
#define IMAGE_TAG_MAX 128

/* "docker.io" is what references say; the v2 API lives on this host. */
#define DOCKER_IO "docker.io"
#define DOCKER_IO_HOST "registry-1.docker.io"

/* [registry[:port]/]repository[:tag][@sha256:hex]. */
typedef struct ImageReference {
        char *registry;   /* "127.0.0.1:5000", "docker.io"; NULL for a short name */
        char *repository; /* "test/busybox", "library/busybox" on docker.io */
        char *tag;        /* NULL if only a digest was given */
        char *digest;     /* "sha256:<64 hex>" or NULL */
} ImageReference;

ImageReference *image_reference_free(ImageReference *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(ImageReference *, image_reference_free);

/* Parse per the distribution reference grammar. The first path component is
 * a registry if it contains '.' or ':' or is "localhost"; otherwise the name
 * is short and registry stays NULL (see image_reference_resolve()). Neither
 * tag nor digest means tag "latest". Only sha256 digests are accepted. On
 * docker.io a one-component repository gets the "library/" namespace and
 * "index.docker.io" is spelled "docker.io". -EINVAL on any syntax error. */
int image_reference_parse(const char *s, ImageReference **ret);
/* The same, and on -EINVAL *ret_reason says why, for the user ("repository
 * names must be lowercase"; a static string). */
int image_reference_parse_reason(const char *s, ImageReference **ret, const char **ret_reason);
/* "registry/repository[:tag][@digest]" (registry omitted for short names). */
int image_reference_to_string(const ImageReference *r, char **ret);
/* "sha256:" and 64 lower-case hex digits, the only digests accepted. */
bool image_digest_is_valid(const char *s);
/* The last element of /v2/<repository>/manifests/<object>: digest if given. */
const char *image_reference_object(const ImageReference *r);
/* The host[:port] the v2 API of a registry lives on. */
const char *registry_api_host(const char *registry);

/* /etc/peapod/registries.conf. */
typedef struct RegistryEntry {
        char *prefix;   /* "registry[:port][/repository prefix]" */
        bool insecure;  /* plain HTTP allowed (and used) */
        char **mirrors; /* registries tried, in order, before the registry itself */
        char *lookaside; /* where signatures of its images live (file:///DIR, http(s)://URL), or NULL */
} RegistryEntry;

typedef struct RegistriesConf {
        char **unqualified_search_registries;
        RegistryEntry *entries;
        size_t n_entries;
        char *auth_file;
        char *default_lookaside; /* for registries without a lookaside of their own, or NULL */
} RegistriesConf;

#define LOOKASIDE_URL_MAX 4096

#define REGISTRIES_CONF_MAX (1024 * 1024)
#define REGISTRIES_CONF_ENTRIES_MAX 1024

RegistriesConf *registries_conf_free(RegistriesConf *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(RegistriesConf *, registries_conf_free);

int registries_conf_parse(const char *text, RegistriesConf **ret, PeapodError *e);
/* Load path (NULL = PEAPOD_CONF_DIR "/registries.conf"). A missing file is an
 * empty configuration: nothing insecure, no search registries. */
int registries_conf_load(const char *path, RegistriesConf **ret, PeapodError *e);
/* The entry whose prefix is the longest match of "registry/repository" at a
 * component boundary; NULL if none (or c is NULL). */
const RegistryEntry *registries_conf_find(const RegistriesConf *c, const char *registry, const char *repository);
/* The signature lookaside for a repository: its entry's, else the default;
 * NULL when none is configured. */
const char *registries_conf_lookaside(const RegistriesConf *c, const char *registry, const char *repository);
/* "registry[:port][/path/components]", as registries.conf and policy.json
 * name scopes. */
bool registry_prefix_is_valid(const char *s);
/* Whether plain HTTP may be used for this registry (its own entry says so). */
bool registries_conf_is_insecure(const RegistriesConf *c, const char *registry, const char *repository);

/* Give a short name its registry: the first of the configuration's
 * unqualified-search-registries. A short name never silently becomes a
 * docker.io name: without a configured search registry this is -ENXIO with a
 * message saying so. Fully qualified references are left alone. */
int image_reference_resolve(ImageReference *r, const RegistriesConf *c, PeapodError *e);

/* The auth file: {"auths": {"host[:port]": {"auth": base64("user:pass")}}}
 * (the form docker and podman write). Keys may carry a scheme and a path
 * ("https://index.docker.io/v1/"); both are ignored when matching. */
typedef struct AuthEntry {
        char *registry;
        char *username;
        char *password;
} AuthEntry;

typedef struct AuthFile {
        AuthEntry *entries;
        size_t n_entries;
} AuthFile;

#define AUTH_FILE_MAX (1024 * 1024)

AuthFile *auth_file_free(AuthFile *a);
DEFINE_TRIVIAL_CLEANUP_FUNC(AuthFile *, auth_file_free);

int auth_file_parse(const char *text, AuthFile **ret, PeapodError *e);
/* A missing file is an empty set of credentials. */
int auth_file_load(const char *path, AuthFile **ret, PeapodError *e);
/* An auth file held in memory only, with one registry's credentials
 * (a pull with credentials of its own, the CRI's AuthConfig). */
int auth_file_new_one(const char *registry, const char *username, const char *password, AuthFile **ret);
/* The credentials for a registry, or NULL. */
const AuthEntry *auth_file_find(const AuthFile *a, const char *registry);

/* The auth file pulls read and 'peapod login' writes: registries.conf's
 * "auth-file", else /etc/peapod/auth.json. */
const char *registries_conf_auth_file(const RegistriesConf *c);
/* A registry as login and logout name it: "host[:port]", a scheme and a
 * path dropped, docker's index names as docker.io; -EINVAL if it is not
 * one (or is localhost, which is never pulled from). */
int auth_registry_normalize(const char *s, char **ret);
/* Sets registry's credentials in the auth file at path (password not
 * NULL), or removes them (password NULL; registry NULL: all of them),
 * keeping every other entry and key. Atomic, mode 0600, one writer at a
 * time. Returns 1 when the file changed, 0 when there was nothing to
 * remove. */
int auth_file_update(const char *path, const char *registry, const char *username, const char *password, PeapodError *e);

/* base64 as in RFC 4648 (with padding); -EINVAL on anything else. */
int base64_decode(const char *s, char **ret, size_t *ret_size);
