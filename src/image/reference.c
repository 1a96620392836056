/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <ctype.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs-util.h"
#include "json-util.h"
#include "reference.h"
#include "string-util.h"
#include "strv.h"

/* registries.conf and auth files: json-c's default depth, which they were
 * always read with, deeper than any real one. */
#define CONF_JSON_DEPTH_MAX 32

ImageReference *image_reference_free(ImageReference *r) {
        if (!r)
                return NULL;
        free(r->registry);
        free(r->repository);
        free(r->tag);
        free(r->digest);
        free(r);
        return NULL;
}

static bool is_lower_alnum(char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* path-component := [a-z0-9]+ (separator [a-z0-9]+)*, separator := [_.] | "__" | "-"+ */
static bool path_component_is_valid(const char *s, size_t n) {
        size_t i = 0;

        if (n == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
                return false;
        while (i < n) {
                if (is_lower_alnum(s[i])) {
                        i++;
                        continue;
                }
                if (s[i] == '.')
                        i++;
                else if (s[i] == '_')
                        i += (i + 1 < n && s[i + 1] == '_') ? 2 : 1;
                else if (s[i] == '-')
                        while (i < n && s[i] == '-')
                                i++;
                else
                        return false;
                /* A separator is always followed by an alphanumeric. */
                if (i >= n || !is_lower_alnum(s[i]))
                        return false;
        }
        return true;
}

/* domain := label ('.' label)* [':' port], label := [a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?
 * IPv6 literals ("[::1]:5000") are not accepted (yet). */
static bool domain_is_valid(const char *s, size_t n) {
        const char *colon = memchr(s, ':', n);
        size_t host_len = colon ? (size_t) (colon - s) : n, label = 0;

        if (host_len == 0)
                return false;
        for (size_t i = 0; i <= host_len; i++) {
                if (i == host_len || s[i] == '.') {
                        if (label == 0 || s[i - 1] == '-')
                                return false;
                        label = 0;
                        continue;
                }
                if (!isascii(s[i]) || !(isalnum(s[i]) || s[i] == '-'))
                        return false;
                if (label == 0 && s[i] == '-')
                        return false;
                label++;
        }
        if (colon) {
                size_t plen = n - host_len - 1;
                if (plen == 0 || plen > 5)
                        return false;
                for (size_t i = host_len + 1; i < n; i++)
                        if (!isdigit(s[i]))
                                return false;
                if (atoi(colon + 1) > 65535)
                        return false;
        }
        return true;
}

/* tag := [\w][\w.-]{0,127} */
static bool tag_is_valid(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > IMAGE_TAG_MAX)
                return false;
        for (size_t i = 0; i < n; i++) {
                bool word = isascii(s[i]) && (isalnum(s[i]) || s[i] == '_');
                if (!word && (i == 0 || (s[i] != '.' && s[i] != '-')))
                        return false;
        }
        return true;
}

/* Only sha256 with 64 lower-case hex digits: the only algorithm registries
 * and the OCI spec require, and one spelling per blob. */
bool image_digest_is_valid(const char *s) {
        const char *hex = s ? startswith(s, "sha256:") : NULL;

        if (!hex || strlen(hex) != 64)
                return false;
        for (; *hex; hex++)
                if (!((*hex >= '0' && *hex <= '9') || (*hex >= 'a' && *hex <= 'f')))
                        return false;
        return true;
}

/* Docker's own spelling rules: "index.docker.io" is an old alias of docker.io,
 * and official images live in the "library/" namespace. The name's bound
 * applies to the normalized form, the one the store records and parses
 * again: "docker.io/" and 245 characters grows past it with "library/". */
static int reference_normalize_docker_io(ImageReference *r) {
        if (!r->registry)
                return 0;
        if (streq(r->registry, "index.docker.io")) {
                char *d = strdup(DOCKER_IO);
                if (!d)
                        return -ENOMEM;
                free(r->registry);
                r->registry = d;
        }
        if (streq(r->registry, DOCKER_IO) && !strchr(r->repository, '/')) {
                char *n;
                if (asprintf(&n, "library/%s", r->repository) < 0)
                        return -ENOMEM;
                free(r->repository);
                r->repository = n;
        }
        if (strlen(r->registry) + 1 + strlen(r->repository) > IMAGE_NAME_MAX)
                return -EINVAL;
        return 0;
}

/* Why a path component is not one, for the user. */
static const char *path_component_reason(const char *s, size_t n) {
        if (n == 0)
                return "a repository name has an empty part ('//', or '/' at an end)";
        for (size_t i = 0; i < n; i++)
                if (s[i] >= 'A' && s[i] <= 'Z')
                        return "repository names must be lowercase";
        return "a repository name is lower-case letters and digits, in parts separated by '/', "
               "with '.', '_', '__' or '-' between letters and digits";
}

#define NAME_TOO_LONG "the name is longer than 255 characters"

/* "@digest" and ":tag" cut off copy (in place) into r. */
static int reference_parse_suffixes(char *copy, ImageReference *r, const char **reason) {
        char *at, *colon, *slash;

        at = strchr(copy, '@');
        if (at) {
                *at++ = 0;
                if (!image_digest_is_valid(at)) {
                        *reason = "a digest is 'sha256:' and 64 lower-case hex digits";
                        return -EINVAL;
                }
                r->digest = strdup(at);
                if (!r->digest)
                        return -ENOMEM;
        }
        /* A ':' after the last '/' starts the tag; one before it is a port. */
        slash = strrchr(copy, '/');
        colon = strrchr(slash ?: copy, ':');
        if (colon) {
                *colon++ = 0;
                if (!tag_is_valid(colon)) {
                        *reason = "a tag is 1-128 letters, digits, '_', '.' and '-', not starting with '.' or '-'";
                        return -EINVAL;
                }
                r->tag = strdup(colon);
                if (!r->tag)
                        return -ENOMEM;
        }
        return 0;
}

/* name (without tag and digest) into r's registry, when its first part
 * names one, and repository. */
static int reference_parse_name(const char *name, ImageReference *r, const char **reason) {
        const char *slash, *path;

        if (strlen(name) > IMAGE_NAME_MAX) {
                *reason = NAME_TOO_LONG;
                return -EINVAL;
        }
        slash = strchr(name, '/');
        if (slash && (memchr(name, '.', slash - name) || memchr(name, ':', slash - name) ||
                      (slash - name == 9 && strneq(name, "localhost", 9)))) {
                if (!domain_is_valid(name, slash - name)) {
                        *reason = "the registry is not a host name (letters, digits, '-', '.') with an optional :port";
                        return -EINVAL;
                }
                r->registry = strndup(name, slash - name);
                if (!r->registry)
                        return -ENOMEM;
                path = slash + 1;
        } else
                path = name;

        for (const char *p = path;;) {
                const char *e = strchrnul(p, '/');
                if (!path_component_is_valid(p, e - p)) {
                        *reason = path_component_reason(p, e - p);
                        return -EINVAL;
                }
                if (!*e)
                        break;
                p = e + 1;
        }
        r->repository = strdup(path);
        return r->repository ? 0 : -ENOMEM;
}

int image_reference_parse_reason(const char *s, ImageReference **ret, const char **ret_reason) {
        _cleanup_(image_reference_freep) ImageReference *r = NULL;
        _cleanup_free_ char *copy = NULL;
        const char *reason_buf, **reason = ret_reason ?: &reason_buf;
        int k;

        *reason = NULL;
        if (isempty(s)) {
                *reason = "it is empty";
                return -EINVAL;
        }
        if (strlen(s) > IMAGE_NAME_MAX + 1 + IMAGE_TAG_MAX + 1 + 7 + 64) {
                *reason = "it is too long";
                return -EINVAL;
        }
        copy = strdup(s);
        r = calloc(1, sizeof(*r));
        if (!copy || !r)
                return -ENOMEM;

        k = reference_parse_suffixes(copy, r, reason);
        if (k < 0)
                return k;
        k = reference_parse_name(copy, r, reason);
        if (k < 0)
                return k;
        if (!r->tag && !r->digest) {
                r->tag = strdup("latest");
                if (!r->tag)
                        return -ENOMEM;
        }
        k = reference_normalize_docker_io(r);
        if (k == -EINVAL)
                *reason = NAME_TOO_LONG;
        if (k < 0)
                return k;
        *ret = TAKE_PTR(r);
        return 0;
}

int image_reference_parse(const char *s, ImageReference **ret) {
        return image_reference_parse_reason(s, ret, NULL);
}

int image_reference_to_string(const ImageReference *r, char **ret) {
        char *s;

        if (asprintf(&s, "%s%s%s%s%s%s%s", strempty(r->registry), r->registry ? "/" : "", r->repository,
                     r->tag ? ":" : "", strempty(r->tag), r->digest ? "@" : "", strempty(r->digest)) < 0)
                return -ENOMEM;
        *ret = s;
        return 0;
}

const char *image_reference_object(const ImageReference *r) {
        return r->digest ?: r->tag;
}

const char *registry_api_host(const char *registry) {
        return streq(registry, DOCKER_IO) ? DOCKER_IO_HOST : registry;
}

/* registries.conf is JSON, not the TOML of containers-registries.conf(5):
 * we already parse JSON with json-c everywhere and a second configuration
 * language would be a second parser to trust. */

static void registry_entry_done(RegistryEntry *e) {
        free(e->prefix);
        strv_free(e->mirrors);
        free(e->lookaside);
}

RegistriesConf *registries_conf_free(RegistriesConf *c) {
        if (!c)
                return NULL;
        strv_free(c->unqualified_search_registries);
        for (size_t i = 0; i < c->n_entries; i++)
                registry_entry_done(&c->entries[i]);
        free(c->entries);
        free(c->auth_file);
        free(c->default_lookaside);
        free(c);
        return NULL;
}

/* A registry name as written in the configuration: a domain as references
 * have it, nothing else (no scheme, no path). */
static bool registry_name_is_valid(const char *s) {
        return !isempty(s) && strlen(s) <= IMAGE_NAME_MAX && domain_is_valid(s, strlen(s));
}

/* A prefix: a registry, optionally followed by repository path components. */
bool registry_prefix_is_valid(const char *s) {
        const char *slash;

        if (isempty(s) || strlen(s) > IMAGE_NAME_MAX)
                return false;
        slash = strchrnul(s, '/');
        if (!domain_is_valid(s, slash - s))
                return false;
        while (*slash) {
                const char *p = slash + 1;
                slash = strchrnul(p, '/');
                if (!path_component_is_valid(p, slash - p))
                        return false;
        }
        return true;
}

static int json_get_registry_strv(json_object *o, const char *key, char ***ret, PeapodError *e) {
        _cleanup_strv_free_ char **l = NULL;
        json_object *v;
        int r;

        if (!json_object_object_get_ex(o, key, &v)) {
                *ret = NULL;
                return 0;
        }
        r = json_get_strv(o, key, &l);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return peapod_error_set(e, -EBADMSG, "registries.conf: \"%s\" is not a list of strings", key);
        if (strv_length(l) > REGISTRIES_CONF_ENTRIES_MAX)
                return peapod_error_set(e, -E2BIG, "registries.conf: \"%s\" has too many entries", key);
        FOREACH_STRV(s, l)
                if (!registry_name_is_valid(s))
                        return peapod_error_set(e, -EBADMSG, "registries.conf: \"%s\" in \"%s\" is not a registry name (host[:port])",
                                                  s, key);
        *ret = TAKE_PTR(l);
        return 0;
}

/* Where signatures live: a file:// directory or an http(s):// base URL. */
static int json_get_lookaside(json_object *o, const char *key, char **ret, PeapodError *e) {
        const char *v;

        if (json_get_string_opt(o, key, &v) < 0)
                return peapod_error_set(e, -EBADMSG, "registries.conf: \"%s\" is not a string", key);
        if (!v)
                return 0;
        if (strlen(v) > LOOKASIDE_URL_MAX || strchr(v, '\n') ||
            !(startswith(v, "file:///") || startswith(v, "http://") || startswith(v, "https://")))
                return peapod_error_set(e, -EBADMSG, "registries.conf: \"%s\" must be a file:///, http:// or https:// URL", key);
        *ret = strdup(v);
        return *ret ? 0 : -ENOMEM;
}

/* Entry i of "registries", appended to c->entries (counted as soon as it
 * holds something to free). */
static int registries_conf_parse_entry(RegistriesConf *c, json_object *o, size_t i, PeapodError *e) {
        RegistryEntry *x = &c->entries[c->n_entries];
        const char *prefix;
        json_object *v;
        int r;

        if (!json_object_is_type(o, json_type_object) || json_get_string(o, "prefix", &prefix) < 0)
                return peapod_error_set(e, -EBADMSG, "registries.conf: registry %zu has no \"prefix\"", i);
        if (!registry_prefix_is_valid(prefix))
                return peapod_error_set(e, -EBADMSG, "registries.conf: \"%s\" is not a registry[/repository] prefix",
                                        prefix);
        x->prefix = strdup(prefix);
        if (!x->prefix)
                return -ENOMEM;
        c->n_entries++;
        if (json_object_object_get_ex(o, "insecure", &v)) {
                if (!json_object_is_type(v, json_type_boolean))
                        return peapod_error_set(e, -EBADMSG, "registries.conf: \"insecure\" of %s is not a boolean",
                                                prefix);
                x->insecure = json_object_get_boolean(v);
        }
        r = json_get_registry_strv(o, "mirrors", &x->mirrors, e);
        if (r < 0)
                return r;
        return json_get_lookaside(o, "lookaside", &x->lookaside, e);
}

int registries_conf_parse(const char *text, RegistriesConf **ret, PeapodError *e) {
        _cleanup_(registries_conf_freep) RegistriesConf *c = NULL;
        _cleanup_json_ json_object *root = NULL;
        char where[JSON_PARSE_ERROR_STRING_MAX];
        json_object *regs;
        JsonParseError pe;
        const char *auth;
        int r;

        r = json_parse_untrusted(text, strlen(text), REGISTRIES_CONF_MAX, CONF_JSON_DEPTH_MAX, &root, &pe);
        if (r == -E2BIG)
                return peapod_error_set(e, r, "registries.conf is larger than %d bytes", REGISTRIES_CONF_MAX);
        if (r == -EBADMSG)
                return peapod_error_set(e, r, "registries.conf: not a JSON object (%s)",
                                        json_parse_error_to_string(&pe, where, sizeof(where)));
        if (r < 0)
                return r;
        if (!json_object_is_type(root, json_type_object))
                return peapod_error_set(e, -EBADMSG, "registries.conf: not a JSON object");
        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;

        r = json_get_registry_strv(root, "unqualified-search-registries", &c->unqualified_search_registries, e);
        if (r < 0)
                return r;
        if (json_get_string_opt(root, "auth-file", &auth) < 0)
                return peapod_error_set(e, -EBADMSG, "registries.conf: \"auth-file\" is not a string");
        if (auth) {
                if (auth[0] != '/')
                        return peapod_error_set(e, -EBADMSG, "registries.conf: \"auth-file\" must be an absolute path");
                c->auth_file = strdup(auth);
                if (!c->auth_file)
                        return -ENOMEM;
        }

        r = json_get_lookaside(root, "default-lookaside", &c->default_lookaside, e);
        if (r < 0)
                return r;

        if (json_object_object_get_ex(root, "registries", &regs)) {
                size_t n;

                if (!json_object_is_type(regs, json_type_array))
                        return peapod_error_set(e, -EBADMSG, "registries.conf: \"registries\" is not a list");
                n = json_object_array_length(regs);
                if (n > REGISTRIES_CONF_ENTRIES_MAX)
                        return peapod_error_set(e, -E2BIG, "registries.conf: too many registries");
                c->entries = calloc(n ?: 1, sizeof(RegistryEntry));
                if (!c->entries)
                        return -ENOMEM;
                for (size_t i = 0; i < n; i++) {
                        r = registries_conf_parse_entry(c, json_object_array_get_idx(regs, i), i, e);
                        if (r < 0)
                                return r;
                }
        }
        *ret = TAKE_PTR(c);
        return 0;
}

int registries_conf_load(const char *path, RegistriesConf **ret, PeapodError *e) {
        _cleanup_free_ char *text = NULL;
        int r;

        path = path ?: PEAPOD_CONF_DIR "/registries.conf";
        r = read_file(path, REGISTRIES_CONF_MAX, &text, NULL);
        if (r == -ENOENT) {
                RegistriesConf *c = calloc(1, sizeof(*c));
                if (!c)
                        return -ENOMEM;
                *ret = c;
                return 0;
        }
        if (r < 0)
                return peapod_error_set(e, r, "Failed to read %s: %s", path, strerror(-r));
        return registries_conf_parse(text, ret, e);
}

const RegistryEntry *registries_conf_find(const RegistriesConf *c, const char *registry, const char *repository) {
        _cleanup_free_ char *full = NULL;
        const RegistryEntry *best = NULL;
        size_t best_len = 0;

        if (!c || !registry)
                return NULL;
        if (asprintf(&full, "%s/%s", registry, strempty(repository)) < 0)
                return NULL;
        for (size_t i = 0; i < c->n_entries; i++) {
                const char *rest = startswith(full, c->entries[i].prefix);
                size_t n = strlen(c->entries[i].prefix);

                /* At a component boundary: "host:5000" must not match "host:50001/x". */
                if (!rest || (*rest != '/' && *rest != 0))
                        continue;
                if (n > best_len) {
                        best = &c->entries[i];
                        best_len = n;
                }
        }
        return best;
}

const char *registries_conf_lookaside(const RegistriesConf *c, const char *registry, const char *repository) {
        const RegistryEntry *x = registries_conf_find(c, registry, repository);

        if (x && x->lookaside)
                return x->lookaside;
        return c ? c->default_lookaside : NULL;
}

bool registries_conf_is_insecure(const RegistriesConf *c, const char *registry, const char *repository) {
        const RegistryEntry *x = registries_conf_find(c, registry, repository);
        return x && x->insecure;
}

int image_reference_resolve(ImageReference *r, const RegistriesConf *c, PeapodError *e) {
        _cleanup_free_ char *reg = NULL;
        int k;

        if (r->registry)
                return 0;
        if (!c || strv_length(c->unqualified_search_registries) == 0)
                return peapod_error_set(e, -ENXIO,
                                          "\"%s\" is a short name and no unqualified-search-registries are configured in "
                                          "registries.conf; use a fully qualified reference (e.g. docker.io/%s)",
                                          r->repository, r->repository);
        reg = strdup(c->unqualified_search_registries[0]);
        if (!reg)
                return -ENOMEM;
        r->registry = TAKE_PTR(reg);
        k = reference_normalize_docker_io(r);
        if (k == -EINVAL)
                return peapod_error_set(e, -EINVAL, "\"%s/%s\" is longer than %d characters", r->registry, r->repository,
                                        IMAGE_NAME_MAX);
        return k;
}

static void auth_entry_done(AuthEntry *a) {
        free(a->registry);
        /* Credentials do not linger in freed heap memory. */
        if (a->password)
                explicit_bzero(a->password, strlen(a->password));
        free(a->username);
        free(a->password);
}

AuthFile *auth_file_free(AuthFile *a) {
        if (!a)
                return NULL;
        for (size_t i = 0; i < a->n_entries; i++)
                auth_entry_done(&a->entries[i]);
        free(a->entries);
        free(a);
        return NULL;
}

int base64_decode(const char *s, char **ret, size_t *ret_size) {
        _cleanup_free_ char *out = NULL;
        size_t n = strlen(s), k = 0;
        unsigned bits = 0, nbits = 0, pad = 0;

        if (n % 4 != 0)
                return -EINVAL;
        out = malloc(n / 4 * 3 + 1);
        if (!out)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                int v;

                if (c == '=') {
                        /* Padding only at the end, at most two. */
                        if (i < n - 2 || ++pad > 2)
                                return -EINVAL;
                        continue;
                }
                if (pad)
                        return -EINVAL;
                if (c >= 'A' && c <= 'Z')
                        v = c - 'A';
                else if (c >= 'a' && c <= 'z')
                        v = c - 'a' + 26;
                else if (c >= '0' && c <= '9')
                        v = c - '0' + 52;
                else if (c == '+')
                        v = 62;
                else if (c == '/')
                        v = 63;
                else
                        return -EINVAL;
                bits = (bits << 6) | (unsigned) v;
                nbits += 6;
                if (nbits >= 8) {
                        nbits -= 8;
                        out[k++] = (char) ((bits >> nbits) & 0xff);
                }
        }
        out[k] = 0;
        *ret = TAKE_PTR(out);
        if (ret_size)
                *ret_size = k;
        return 0;
}

/* "https://index.docker.io/v1/" -> "docker.io", "http://h:5000/x" -> "h:5000". */
static int auth_key_normalize(const char *key, char **ret) {
        const char *p = startswith(key, "https://") ?: startswith(key, "http://") ?: key;
        char *s = strndup(p, strcspn(p, "/"));

        if (!s)
                return -ENOMEM;
        if (streq(s, "index.docker.io") || streq(s, DOCKER_IO_HOST)) {
                free(s);
                s = strdup(DOCKER_IO);
                if (!s)
                        return -ENOMEM;
        }
        *ret = s;
        return 0;
}

int auth_file_parse(const char *text, AuthFile **ret, PeapodError *e) {
        _cleanup_(auth_file_freep) AuthFile *a = NULL;
        _cleanup_json_ json_object *root = NULL;
        char where[JSON_PARSE_ERROR_STRING_MAX];
        json_object *auths;
        JsonParseError pe;
        size_t n;
        int r;

        /* The error says where, never what: the text holds secrets. */
        r = json_parse_untrusted(text, strlen(text), AUTH_FILE_MAX, CONF_JSON_DEPTH_MAX, &root, &pe);
        if (r == -E2BIG)
                return peapod_error_set(e, r, "auth file is larger than %d bytes", AUTH_FILE_MAX);
        if (r == -EBADMSG)
                return peapod_error_set(e, r, "auth file: not a JSON object (%s)",
                                        json_parse_error_to_string(&pe, where, sizeof(where)));
        if (r < 0)
                return r;
        if (!json_object_is_type(root, json_type_object))
                return peapod_error_set(e, -EBADMSG, "auth file: not a JSON object");
        a = calloc(1, sizeof(*a));
        if (!a)
                return -ENOMEM;
        if (!json_object_object_get_ex(root, "auths", &auths)) {
                *ret = TAKE_PTR(a);
                return 0;
        }
        if (!json_object_is_type(auths, json_type_object))
                return peapod_error_set(e, -EBADMSG, "auth file: \"auths\" is not an object");
        n = json_object_object_length(auths);
        if (n > REGISTRIES_CONF_ENTRIES_MAX)
                return peapod_error_set(e, -E2BIG, "auth file: too many entries");
        a->entries = calloc(n ?: 1, sizeof(AuthEntry));
        if (!a->entries)
                return -ENOMEM;

        json_object_object_foreach(auths, key, val) {
                AuthEntry *x = &a->entries[a->n_entries];
                _cleanup_free_ char *decoded = NULL;
                const char *b64;
                size_t size;
                char *colon;

                if (!json_object_is_type(val, json_type_object) || json_get_string_opt(val, "auth", &b64) < 0)
                        return peapod_error_set(e, -EBADMSG, "auth file: entry \"%s\" is not an object with an \"auth\" string", key);
                if (!b64) /* credential helpers etc.: nothing for us */
                        continue;
                r = base64_decode(b64, &decoded, &size);
                if (r == -ENOMEM)
                        return r;
                if (r < 0 || memchr(decoded, 0, size) || !(colon = strchr(decoded, ':')))
                        return peapod_error_set(e, -EBADMSG, "auth file: \"auth\" of \"%s\" is not base64 of user:password", key);
                *colon = 0;
                r = auth_key_normalize(key, &x->registry);
                if (r < 0)
                        return r;
                x->username = strdup(decoded);
                x->password = strdup(colon + 1);
                explicit_bzero(decoded, size);
                a->n_entries++;
                if (!x->username || !x->password)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(a);
        return 0;
}

int auth_file_load(const char *path, AuthFile **ret, PeapodError *e) {
        _cleanup_free_ char *text = NULL;
        size_t size;
        int r;

        r = read_file(path, AUTH_FILE_MAX, &text, &size);
        if (r == -ENOENT) {
                AuthFile *a = calloc(1, sizeof(*a));
                if (!a)
                        return -ENOMEM;
                *ret = a;
                return 0;
        }
        if (r < 0)
                return peapod_error_set(e, r, "Failed to read %s: %s", path, strerror(-r));
        r = auth_file_parse(text, ret, e);
        explicit_bzero(text, size);
        return r;
}

int auth_file_new_one(const char *registry, const char *username, const char *password, AuthFile **ret) {
        _cleanup_(auth_file_freep) AuthFile *a = NULL;

        if (!registry || !username || !password)
                return -EINVAL;
        a = calloc(1, sizeof(AuthFile));
        if (!a)
                return -ENOMEM;
        a->entries = calloc(1, sizeof(AuthEntry));
        if (!a->entries)
                return -ENOMEM;
        a->n_entries = 1;
        a->entries[0].registry = strdup(registry);
        a->entries[0].username = strdup(username);
        a->entries[0].password = strdup(password);
        if (!a->entries[0].registry || !a->entries[0].username || !a->entries[0].password)
                return -ENOMEM;
        *ret = TAKE_PTR(a);
        return 0;
}

const AuthEntry *auth_file_find(const AuthFile *a, const char *registry) {
        if (!a || !registry)
                return NULL;
        for (size_t i = 0; i < a->n_entries; i++)
                if (streq(a->entries[i].registry, registry))
                        return &a->entries[i];
        return NULL;
}

const char *registries_conf_auth_file(const RegistriesConf *c) {
        return c && c->auth_file ? c->auth_file : PEAPOD_CONF_DIR "/auth.json";
}

int auth_registry_normalize(const char *s, char **ret) {
        _cleanup_free_ char *r = NULL;
        int k;

        if (isempty(s) || strlen(s) > IMAGE_NAME_MAX)
                return -EINVAL;
        k = auth_key_normalize(s, &r);
        if (k < 0)
                return k;
        if (!registry_name_is_valid(r) || streq(r, "localhost"))
                return -EINVAL;
        *ret = TAKE_PTR(r);
        return 0;
}

static char *base64_encode(const void *data, size_t size) {
        static const char table[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        const unsigned char *p = data;
        char *out, *o;

        if (size > (SIZE_MAX - 1) / 4 * 3 - 3)
                return NULL;
        out = o = malloc((size + 2) / 3 * 4 + 1);
        if (!out)
                return NULL;
        for (size_t i = 0; i < size; i += 3) {
                unsigned v = (unsigned) p[i] << 16 | (i + 1 < size ? (unsigned) p[i + 1] << 8 : 0) |
                             (i + 2 < size ? p[i + 2] : 0);

                *o++ = table[(v >> 18) & 63];
                *o++ = table[(v >> 12) & 63];
                *o++ = i + 1 < size ? table[(v >> 6) & 63] : '=';
                *o++ = i + 2 < size ? table[v & 63] : '=';
        }
        *o = 0;
        return out;
}

/* One writer at a time, so that two logins do not lose each other's entry:
 * a lock on the directory (the file itself is replaced). 1 with the locked
 * directory in ret_dfd; 0 when it does not exist and need not (nothing is
 * saved). */
static int auth_file_lock_dir(const char *path, bool create, int *ret_dfd, PeapodError *e) {
        _cleanup_free_ char *dir = NULL;
        _cleanup_close_ int dfd = -EBADF;

        dir = strndup(path, strrchr(path, '/') ? (size_t) (strrchr(path, '/') - path) : 0);
        if (!dir)
                return -ENOMEM;
        if (isempty(dir) && !(free(dir), dir = strdup("/")))
                return -ENOMEM;
        if (create && mkdir(dir, 0755) < 0 && errno != EEXIST)
                return peapod_error_set(e, -errno, "Failed to create %s: %s", dir, strerror(errno));
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0) {
                if (errno == ENOENT && !create)
                        return 0;
                return peapod_error_set(e, -errno, "Failed to open %s: %s", dir, strerror(errno));
        }
        if (flock(dfd, LOCK_EX) < 0)
                return peapod_error_set(e, -errno, "Failed to lock %s: %s", dir, strerror(errno));
        *ret_dfd = TAKE_FD(dfd);
        return 1;
}

/* The file as JSON, checked as a pull checks it (a file we would write must
 * be one a pull can read); a new object when there is none and create. 1
 * with ret_root, 0 when there is nothing to change. */
static int auth_file_read_json(const char *path, bool create, json_object **ret_root, PeapodError *e) {
        _cleanup_free_ char *text = NULL;
        json_object *root;
        size_t size = 0;
        int r;

        r = read_file(path, AUTH_FILE_MAX, &text, &size);
        if (r < 0 && r != -ENOENT)
                return peapod_error_set(e, r, "Failed to read %s: %s", path, strerror(-r));
        if (r >= 0) {
                _cleanup_(auth_file_freep) AuthFile *check = NULL;

                r = auth_file_parse(text, &check, e);
                if (r < 0) {
                        explicit_bzero(text, size);
                        return r;
                }
                r = json_parse_untrusted(text, size, AUTH_FILE_MAX, CONF_JSON_DEPTH_MAX, &root, NULL);
                explicit_bzero(text, size);
                if (r < 0)
                        return peapod_error_set(e, r, "%s: not JSON", path);
        } else {
                if (!create)
                        return 0;
                root = json_object_new_object();
                if (!root)
                        return -ENOMEM;
        }
        *ret_root = root;
        return 1;
}

/* Every key that means registry ("https://index.docker.io/v1/" and
 * "docker.io" alike) goes; with registry NULL, every key. 1 if one went. */
static int auth_entries_drop(json_object *auths, const char *registry) {
        _cleanup_strv_free_ char **drop = NULL;
        int r;

        json_object_object_foreach(auths, key, val) {
                _cleanup_free_ char *k = NULL;

                (void) val;
                r = auth_key_normalize(key, &k);
                if (r < 0)
                        return r;
                if (!registry || streq(k, registry))
                        if (strv_extend(&drop, key) < 0)
                                return -ENOMEM;
        }
        FOREACH_STRV(k, drop)
                json_object_object_del(auths, k);
        return strv_length(drop) > 0;
}

/* registry: {"auth": base64(username:password)}; the copies in our memory
 * are wiped. */
static int auth_entry_add(json_object *auths, const char *registry, const char *username, const char *password,
                          PeapodError *e) {
        _cleanup_free_ char *pair = NULL, *b64 = NULL;
        json_object *entry;

        if (strchr(username, ':'))
                return peapod_error_set(e, -EINVAL, "A user name cannot contain ':'");
        if (asprintf(&pair, "%s:%s", username, password) < 0)
                return -ENOMEM;
        b64 = base64_encode(pair, strlen(pair));
        explicit_bzero(pair, strlen(pair));
        if (!b64)
                return -ENOMEM;
        entry = json_object_new_object();
        if (!entry || json_object_object_add(auths, registry, entry) < 0) {
                json_object_put(entry);
                return -ENOMEM;
        }
        if (json_object_object_add(entry, "auth", json_object_new_string(b64)) < 0)
                return -ENOMEM;
        explicit_bzero(b64, strlen(b64));
        return 0;
}

int auth_file_update(const char *path, const char *registry, const char *username, const char *password, PeapodError *e) {
        _cleanup_json_ json_object *root = NULL;
        _cleanup_close_ int dfd = -EBADF;
        json_object *auths = NULL;
        const char *out;
        int r, changed = 0;

        assert(path);
        assert(!password || (registry && username));

        r = auth_file_lock_dir(path, password != NULL, &dfd, e);
        if (r <= 0)
                return r;
        r = auth_file_read_json(path, password != NULL, &root, e);
        if (r <= 0)
                return r;
        /* Other keys (credHelpers, ...) are another program's: kept. */
        if (!json_object_object_get_ex(root, "auths", &auths)) {
                if (!password)
                        return 0;
                auths = json_object_new_object();
                if (!auths || json_object_object_add(root, "auths", auths) < 0)
                        return -ENOMEM;
        }

        r = auth_entries_drop(auths, registry);
        if (r < 0)
                return r;
        changed = r;
        if (password) {
                r = auth_entry_add(auths, registry, username, password, e);
                if (r < 0)
                        return r;
                changed = 1;
        }
        if (!changed)
                return 0;

        out = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!out)
                return -ENOMEM;
        /* 0600 from the first byte (write_file_atomic sets the temp file's
         * mode before writing): the file holds passwords. */
        r = write_file_atomic(path, out, strlen(out), 0600);
        explicit_bzero((char *) out, strlen(out));
        if (r < 0)
                return peapod_error_set(e, r, "Failed to write %s: %s", path, strerror(-r));
        return 1;
}
