/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include <curl/curl.h>

#include "io-util.h"
#include "json-util.h"
#include "manifest.h"
#include "registry.h"
#include "string-util.h"
#include "strv.h"
#include "time-util.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(CURL *, curl_easy_cleanup);
DEFINE_TRIVIAL_CLEANUP_FUNC(CURLM *, curl_multi_cleanup);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct curl_slist *, curl_slist_free_all);
static inline void curl_freep(char **p) {
        curl_free(*p);
}

#ifndef CURL_WRITEFUNC_ERROR
#define CURL_WRITEFUNC_ERROR 0
#endif
#ifndef MIN
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#endif

/* A registry's error answer ({"errors": [...]}) and a token answer are small;
 * nothing beyond this is kept or parsed. */
#define ERROR_BODY_MAX (64U * 1024U)
#define TOKEN_BODY_MAX (1024U * 1024U)
/* Error and token bodies: json-c's default depth, which they were always
 * read with; real ones are a few levels deep. */
#define REGISTRY_JSON_DEPTH_MAX 32
#define MAX_REDIRECTS 10L
/* A server asking us to wait longer than this (Retry-After) is not waited for longer. */
#define RETRY_AFTER_MAX (10 * USEC_PER_SEC)

typedef struct Token {
        char *registry;
        char *scope;
        char *token;
        uint64_t expires_usec;
} Token;

struct RegistryClient {
        const RegistriesConf *config;
        const AuthFile *auth;
        char *bearer_registry, *bearer_token, *identity_token;
        char *ca_file;
        unsigned max_connections, max_tries, low_speed_limit, low_speed_time, connect_timeout;
        uint64_t retry_delay_usec;
        CURLM *multi;
        Token *tokens;
        size_t n_tokens;
        char **basic_registries; /* answered 401 with a Basic challenge */
        /* A progress callback asked to stop: every transfer of the current
         * call ends with -ECANCELED. */
        bool cancelled;
};

typedef enum TransferKind {
        TRANSFER_MANIFEST,
        TRANSFER_BLOB,
        TRANSFER_TOKEN,
        TRANSFER_PING,  /* GET /v2/: do our credentials work here? */
} TransferKind;

typedef struct Transfer {
        RegistryClient *client;
        TransferKind kind;
        size_t index;
        char *url;
        char *what;           /* for messages: "manifest HOST/REPO:TAG", "blob sha256:..." */
        const char *registry; /* whose credentials and tokens apply (NULL: token transfer) */
        const char *scope;
        bool insecure;
        char * const *accept;
        const AuthEntry *token_credentials;
        char *post;           /* a token transfer's form body (OAuth2 refresh token grant), or NULL: GET */

        CURL *easy;
        CURLM *multi; /* the one easy is added to */
        struct curl_slist *headers;
        char errbuf[CURL_ERROR_SIZE];
        bool running, done;
        unsigned tries;
        bool auth_retried, used_credentials;
        uint64_t not_before_usec;

        /* The current response; reset on every status line (redirects, 100). */
        char *content_type, *docker_digest, *content_range;
        char **challenges;
        uint64_t content_length; /* UINT64_MAX: not sent */
        uint64_t retry_after_usec;
        bool body_started;

        /* Manifest or token body, or the error body of a non-2xx answer. */
        char *buf;
        size_t size, max;
        bool buf_is_error;

        /* Blobs. */
        const char *digest;
        uint64_t expected_size, received;
        RegistrySink sink;
        DigestContext md;
        RegistryProgress progress;
        void *userdata;

        /* Set by a callback that aborts the transfer; wins over curl's code. */
        int abort_error;

        int result;
        PeapodError error;
} Transfer;

static char *mfree_str(char *p) {
        free(p);
        return NULL;
}

/* Append a header line, taking ownership of it. */
static int slist_consume(struct curl_slist **l, char *line) {
        _cleanup_free_ char *s = line;
        struct curl_slist *n = curl_slist_append(*l, s); /* copies */

        if (!n)
                return -ENOMEM;
        *l = n;
        return 0;
}

static void transfer_error(Transfer *t, int r, const char *fmt, ...) _printf_(3, 4);
static void transfer_error(Transfer *t, int r, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        (void) vsnprintf(t->error.message, sizeof(t->error.message), fmt, ap);
        va_end(ap);
        t->result = r;
        t->done = true;
}

static void transfer_reset_response(Transfer *t) {
        t->content_type = mfree_str(t->content_type);
        t->docker_digest = mfree_str(t->docker_digest);
        t->content_range = mfree_str(t->content_range);
        strv_free(t->challenges);
        t->challenges = NULL;
        t->content_length = UINT64_MAX;
        t->retry_after_usec = 0;
        t->body_started = false;
        t->buf_is_error = false;
        t->size = 0;
}

static void transfer_detach(Transfer *t) {
        if (t->easy) {
                if (t->running)
                        (void) curl_multi_remove_handle(t->multi, t->easy);
                curl_easy_cleanup(t->easy);
                t->easy = NULL;
        }
        t->running = false;
        curl_slist_free_all(t->headers);
        t->headers = NULL;
}

static void transfer_done(Transfer *t) {
        transfer_reset_response(t);
        if (t->post)
                explicit_bzero(t->post, strlen(t->post));
        free(t->post);
        free(t->url);
        free(t->what);
        free(t->buf);
        digest_context_done(&t->md);
}

static int md_start(Transfer *t) {
        return digest_context_init(&t->md, DIGEST_SHA256);
}

/* "sha256:<hex>" into buf. */
static int md_finish(DigestContext *md, char buf[static DIGEST_STRING_MAX]) {
        Digest d;
        int r;

        r = digest_context_final(md, &d);
        if (r < 0)
                return r;
        (void) digest_to_string(&d, buf);
        return 0;
}

static int sha256_buffer(const void *p, size_t n, char buf[static DIGEST_STRING_MAX]) {
        Digest d;
        int r;

        r = digest_buffer(DIGEST_SHA256, p, n, &d);
        if (r < 0)
                return r;
        (void) digest_to_string(&d, buf);
        return 0;
}

/* Text from the network going into our messages: printable ASCII only, so a
 * registry cannot put escape sequences on an operator's terminal. */
static void sanitize(char *s) {
        for (; *s; s++)
                if (!isascii(*s) || !isprint(*s))
                        *s = '?';
}

/* " (CODE: message)" from a registry's {"errors": [{"code", "message"}]}. */
void registry_error_body_describe(const char *body, size_t size, char *out, size_t n) {
        _cleanup_json_ json_object *root = NULL;
        _cleanup_free_ char *code = NULL, *msg = NULL;
        json_object *errors, *first;
        const char *a = NULL, *b = NULL;

        out[0] = 0;
        if (size == 0 || json_parse_untrusted(body, size, ERROR_BODY_MAX, REGISTRY_JSON_DEPTH_MAX, &root, NULL) < 0)
                return;
        if (!json_object_is_type(root, json_type_object) || !json_object_object_get_ex(root, "errors", &errors) ||
            !json_object_is_type(errors, json_type_array) ||
            json_object_array_length(errors) == 0)
                return;
        first = json_object_array_get_idx(errors, 0);
        if (!json_object_is_type(first, json_type_object))
                return;
        (void) json_get_string_opt(first, "code", &a);
        (void) json_get_string_opt(first, "message", &b);
        code = strndup(strempty(a), 64);
        msg = strndup(strempty(b), 160);
        if (!code || !msg)
                return;
        sanitize(code);
        sanitize(msg);
        (void) snprintf(out, n, " (%s%s%s)", code, *code && *msg ? ": " : "", msg);
}

static void error_body_describe(const Transfer *t, char *out, size_t n) {
        out[0] = 0;
        if (t->buf_is_error)
                registry_error_body_describe(t->buf, t->size, out, n);
}

static bool content_type_is(const char *ct, const char *type) {
        size_t n;

        if (!ct)
                return false;
        while (*ct == ' ' || *ct == '\t')
                ct++;
        n = strcspn(ct, "; \t");
        return n == strlen(type) && strncasecmp(ct, type, n) == 0;
}

void registry_header_done(RegistryHeader *h) {
        h->value = mfree_str(h->value);
}

/* The value of a known header h, checked: numbers read into h->number; one
 * that is too long or malformed makes h an ignored REGISTRY_HEADER_OTHER. */
static void header_value_check(RegistryHeader *h, const char *value) {
        switch (h->kind) {
        case REGISTRY_HEADER_CONTENT_TYPE:
        case REGISTRY_HEADER_DOCKER_CONTENT_DIGEST:
        case REGISTRY_HEADER_CONTENT_RANGE:
                if (strlen(value) > REGISTRY_HEADER_VALUE_MAX)
                        h->kind = REGISTRY_HEADER_OTHER; /* ignored */
                break;
        case REGISTRY_HEADER_WWW_AUTHENTICATE:
                /* Ignored, not fatal: a 401 without a usable challenge is reported as such. */
                if (strlen(value) > WWW_AUTHENTICATE_MAX)
                        h->kind = REGISTRY_HEADER_OTHER;
                break;
        case REGISTRY_HEADER_CONTENT_LENGTH: {
                char *end;
                unsigned long long v;

                errno = 0;
                v = strtoull(value, &end, 10);
                if (errno == 0 && end != value && isdigit(value[0]))
                        h->number = v;
                else
                        h->kind = REGISTRY_HEADER_OTHER;
                break;
        }
        case REGISTRY_HEADER_RETRY_AFTER: {
                /* Only the delta-seconds form; an HTTP date is treated as absent. */
                char *end;
                unsigned long v;

                errno = 0;
                v = strtoul(value, &end, 10);
                if (end != value && *end == 0 && isdigit(value[0]))
                        h->number = errno != 0 || v > RETRY_AFTER_MAX / USEC_PER_SEC ? RETRY_AFTER_MAX : v * USEC_PER_SEC;
                else
                        h->kind = REGISTRY_HEADER_OTHER;
                break;
        }
        default:
                break;
        }
}

int registry_header_parse(const char *data, size_t n, RegistryHeader *ret) {
        static const struct {
                const char *name;
                RegistryHeaderKind kind;
        } known[] = {
                { "Content-Type", REGISTRY_HEADER_CONTENT_TYPE },
                { "Docker-Content-Digest", REGISTRY_HEADER_DOCKER_CONTENT_DIGEST },
                { "Content-Range", REGISTRY_HEADER_CONTENT_RANGE },
                { "WWW-Authenticate", REGISTRY_HEADER_WWW_AUTHENTICATE },
                { "Content-Length", REGISTRY_HEADER_CONTENT_LENGTH },
                { "Retry-After", REGISTRY_HEADER_RETRY_AFTER },
        };
        _cleanup_free_ char *line = NULL;
        RegistryHeader h = { .kind = REGISTRY_HEADER_OTHER };
        char *colon, *value;
        size_t k;

        /* A new response (after a redirect, or a 100 Continue). */
        if (n >= 5 && strneq(data, "HTTP/", 5)) {
                *ret = (RegistryHeader) { .kind = REGISTRY_HEADER_STATUS };
                return 0;
        }
        line = strndup(data, n);
        if (!line)
                return -ENOMEM;
        /* The line ends at its first CR, LF or NUL: nothing after one of
         * them can reach a value. */
        k = strcspn(line, "\r\n");
        line[k] = 0;
        colon = strchr(line, ':');
        if (!colon) {
                *ret = h;
                return 0;
        }
        *colon = 0;
        value = colon + 1;
        value += strspn(value, " \t");

        for (size_t i = 0; i < ELEMENTSOF(known); i++)
                if (strcasecmp(line, known[i].name) == 0)
                        h.kind = known[i].kind;
        header_value_check(&h, value);
        if (h.kind == REGISTRY_HEADER_CONTENT_TYPE || h.kind == REGISTRY_HEADER_DOCKER_CONTENT_DIGEST ||
            h.kind == REGISTRY_HEADER_CONTENT_RANGE || h.kind == REGISTRY_HEADER_WWW_AUTHENTICATE) {
                h.value = strdup(value);
                if (!h.value)
                        return -ENOMEM;
        }
        *ret = h;
        return 0;
}

static size_t header_cb(char *data, size_t size, size_t nmemb, void *userdata) {
        Transfer *t = userdata;
        size_t n = size * nmemb;
        _cleanup_(registry_header_done) RegistryHeader h = {};
        char **target = NULL;

        if (registry_header_parse(data, n, &h) < 0)
                goto fail;
        switch (h.kind) {
        case REGISTRY_HEADER_STATUS:
                /* Forget the previous response's headers. */
                transfer_reset_response(t);
                break;
        case REGISTRY_HEADER_CONTENT_TYPE:
                target = &t->content_type;
                break;
        case REGISTRY_HEADER_DOCKER_CONTENT_DIGEST:
                target = &t->docker_digest;
                break;
        case REGISTRY_HEADER_CONTENT_RANGE:
                target = &t->content_range;
                break;
        case REGISTRY_HEADER_WWW_AUTHENTICATE:
                if (strv_length(t->challenges) >= AUTH_CHALLENGES_MAX)
                        break;
                if (strv_consume(&t->challenges, TAKE_PTR(h.value)) < 0)
                        goto fail;
                break;
        case REGISTRY_HEADER_CONTENT_LENGTH:
                t->content_length = h.number;
                break;
        case REGISTRY_HEADER_RETRY_AFTER:
                t->retry_after_usec = h.number;
                break;
        default:
                break;
        }
        if (target) {
                free(*target);
                *target = TAKE_PTR(h.value);
        }
        return n;
fail:
        t->abort_error = -ENOMEM;
        return 0;
}

static int blob_reset(Transfer *t) {
        int r;

        if (t->received == 0)
                return 0;
        if (!t->sink.reset)
                return -ESPIPE;
        r = t->sink.reset(t->sink.userdata);
        if (r < 0)
                return r;
        t->received = 0;
        if (t->progress && t->progress(t->index, 0, t->expected_size, t->userdata) != 0) {
                t->client->cancelled = true;
                return -ECANCELED;
        }
        return md_start(t);
}

/* Content-Range: bytes FIRST-LAST/TOTAL, and FIRST must be where we are. */
static bool content_range_matches(const char *s, uint64_t offset, uint64_t size) {
        unsigned long long first, last;
        int k = -1;

        if (!s || sscanf(s, "bytes %llu-%llu/%*[0-9*]%n", &first, &last, &k) < 2 || k < 0)
                return false;
        return first == offset && last >= first && last < size;
}

/* The first body byte of the final response (or its end, for an empty body):
 * decide where the body goes. */
static int transfer_body_begin(Transfer *t) {
        long status = 0;
        int r;

        t->body_started = true;
        (void) curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
        if (status < 200 || status > 299) {
                t->buf_is_error = true;
                return 0;
        }
        if (t->kind != TRANSFER_BLOB) {
                if (t->content_length != UINT64_MAX && t->content_length > t->max) {
                        t->abort_error = -EFBIG;
                        return -EFBIG;
                }
                return 0;
        }

        if (status == 206) {
                /* A resumption: only good if it continues exactly where we stopped. */
                if (!content_range_matches(t->content_range, t->received, t->expected_size)) {
                        t->abort_error = -EBADMSG;
                        (void) snprintf(t->error.message, sizeof(t->error.message), "%s: server answered a range request with Content-Range '%s'",
                                        t->what, strna(t->content_range));
                        sanitize(t->error.message);
                        return -EBADMSG;
                }
        } else if (t->received > 0) {
                /* The server ignored Range and sends the whole blob again. */
                r = blob_reset(t);
                if (r < 0) {
                        t->abort_error = r;
                        (void) snprintf(t->error.message, sizeof(t->error.message),
                                        "%s: transfer must start over but the sink cannot be reset", t->what);
                        return r;
                }
        }
        if (t->content_length != UINT64_MAX && t->content_length > t->expected_size - t->received) {
                t->abort_error = -EFBIG;
                return -EFBIG;
        }
        return 0;
}

static size_t write_cb(char *data, size_t size, size_t nmemb, void *userdata) {
        Transfer *t = userdata;
        size_t n = size * nmemb;
        int r;

        if (!t->body_started && transfer_body_begin(t) < 0)
                return CURL_WRITEFUNC_ERROR;

        if (t->buf_is_error || t->kind != TRANSFER_BLOB) {
                size_t max = t->buf_is_error ? ERROR_BODY_MAX : t->max;
                char *p;

                if (n > max - t->size) {
                        if (t->buf_is_error) /* only the start of an error body is interesting */
                                return n;
                        t->abort_error = -EFBIG;
                        return CURL_WRITEFUNC_ERROR;
                }
                p = realloc(t->buf, t->size + n + 1);
                if (!p) {
                        t->abort_error = -ENOMEM;
                        return CURL_WRITEFUNC_ERROR;
                }
                t->buf = p;
                memcpy(t->buf + t->size, data, n);
                t->size += n;
                t->buf[t->size] = 0;
                return n;
        }

        if (n > t->expected_size - t->received) {
                t->abort_error = -EFBIG;
                return CURL_WRITEFUNC_ERROR;
        }
        if (digest_context_update(&t->md, data, n) < 0) {
                t->abort_error = -EIO;
                return CURL_WRITEFUNC_ERROR;
        }
        r = t->sink.write(data, n, t->sink.userdata);
        if (r < 0) {
                t->abort_error = r;
                (void) snprintf(t->error.message, sizeof(t->error.message), "%s: writing to the sink failed: %s", t->what,
                                strerror(-r));
                return CURL_WRITEFUNC_ERROR;
        }
        t->received += n;
        if (t->progress && t->progress(t->index, t->received, t->expected_size, t->userdata) != 0) {
                t->client->cancelled = true;
                t->abort_error = -ECANCELED;
                return CURL_WRITEFUNC_ERROR;
        }
        return n;
}

static const Token *token_find(RegistryClient *c, const char *registry, const char *scope) {
        uint64_t now = now_usec(CLOCK_MONOTONIC);

        for (size_t i = 0; i < c->n_tokens; i++)
                if (streq(c->tokens[i].registry, registry) && streq(c->tokens[i].scope, scope) &&
                    c->tokens[i].expires_usec > now)
                        return &c->tokens[i];
        return NULL;
}

static void token_done(Token *t) {
        free(t->registry);
        free(t->scope);
        if (t->token)
                explicit_bzero(t->token, strlen(t->token));
        free(t->token);
}

static void token_forget(RegistryClient *c, const char *registry, const char *scope) {
        for (size_t i = 0; i < c->n_tokens; i++)
                if (streq(c->tokens[i].registry, registry) && streq(c->tokens[i].scope, scope)) {
                        token_done(&c->tokens[i]);
                        c->tokens[i] = c->tokens[--c->n_tokens];
                        return;
                }
}

static int token_store(RegistryClient *c, const char *registry, const char *scope, const char *token, uint64_t lifetime_usec) {
        Token *n, x = {};

        token_forget(c, registry, scope);
        x.registry = strdup(registry);
        x.scope = strdup(scope);
        x.token = strdup(token);
        x.expires_usec = now_usec(CLOCK_MONOTONIC) + lifetime_usec;
        if (!x.registry || !x.scope || !x.token) {
                token_done(&x);
                return -ENOMEM;
        }
        n = reallocarray(c->tokens, c->n_tokens + 1, sizeof(Token));
        if (!n) {
                token_done(&x);
                return -ENOMEM;
        }
        c->tokens = n;
        c->tokens[c->n_tokens++] = x;
        return 0;
}

#define SETOPT(opt, val)                                                  \
        do {                                                              \
                if (curl_easy_setopt(easy, opt, val) != CURLE_OK)         \
                        return -EIO;                                      \
        } while (0)

/* Accept for a manifest, Range for a blob that resumes. */
static int easy_set_headers(Transfer *t, CURL *easy) {
        if (t->kind == TRANSFER_MANIFEST) {
                _cleanup_free_ char *list = strv_join(t->accept, ", "), *h = NULL;
                if (!list || asprintf(&h, "Accept: %s", list) < 0)
                        return -ENOMEM;
                if (slist_consume(&t->headers, TAKE_PTR(h)) < 0)
                        return -ENOMEM;
        }
        if (t->kind == TRANSFER_BLOB && t->received > 0) {
                /* Resume where the dropped attempt stopped; a server without
                 * range support answers 200 and the sink starts over. */
                _cleanup_free_ char *h = NULL;
                if (asprintf(&h, "Range: bytes=%" PRIu64 "-", t->received) < 0)
                        return -ENOMEM;
                if (slist_consume(&t->headers, TAKE_PTR(h)) < 0)
                        return -ENOMEM;
        }
        if (t->headers)
                SETOPT(CURLOPT_HTTPHEADER, t->headers);
        if (t->post)
                SETOPT(CURLOPT_POSTFIELDS, t->post);
        return 0;
}

/* The credentials of this transfer: Basic for a token request, else the
 * registry's token, else Basic where the registry asked for it. */
static int easy_set_auth(Transfer *t, CURL *easy) {
        RegistryClient *c = t->client;
        const AuthEntry *cred;
        const Token *tok;

        t->used_credentials = false;
        if (t->kind == TRANSFER_TOKEN) {
                cred = t->token_credentials;
                if (cred) {
                        SETOPT(CURLOPT_HTTPAUTH, (long) CURLAUTH_BASIC);
                        SETOPT(CURLOPT_USERNAME, cred->username);
                        SETOPT(CURLOPT_PASSWORD, cred->password);
                        t->used_credentials = true;
                }
        } else if (c->bearer_token && streq_ptr(t->registry, c->bearer_registry)) {
                SETOPT(CURLOPT_HTTPAUTH, (long) CURLAUTH_BEARER);
                SETOPT(CURLOPT_XOAUTH2_BEARER, c->bearer_token);
                t->used_credentials = true;
        } else if ((tok = token_find(c, t->registry, t->scope))) {
                SETOPT(CURLOPT_HTTPAUTH, (long) CURLAUTH_BEARER);
                SETOPT(CURLOPT_XOAUTH2_BEARER, tok->token);
                t->used_credentials = true;
        } else if (strv_contains(c->basic_registries, t->registry) && (cred = auth_file_find(c->auth, t->registry))) {
                SETOPT(CURLOPT_HTTPAUTH, (long) CURLAUTH_BASIC);
                SETOPT(CURLOPT_USERNAME, cred->username);
                SETOPT(CURLOPT_PASSWORD, cred->password);
                t->used_credentials = true;
        }
        return 0;
}

static int easy_setup(Transfer *t) {
        RegistryClient *c = t->client;
        _cleanup_(curl_easy_cleanupp) CURL *easy = NULL;
        const char *protocols = t->insecure ? "http,https" : "https";
        int r;

        easy = curl_easy_init();
        if (!easy)
                return -ENOMEM;
        t->errbuf[0] = 0;

        SETOPT(CURLOPT_URL, t->url);
        SETOPT(CURLOPT_PRIVATE, t);
        SETOPT(CURLOPT_ERRORBUFFER, t->errbuf);
        SETOPT(CURLOPT_NOSIGNAL, 1L);
        SETOPT(CURLOPT_USERAGENT, "peapod/" PACKAGE_VERSION);
        /* Plain HTTP only where registries.conf marks the registry insecure,
         * and then for its redirects too; everywhere else HTTPS with curl's
         * default verification (VERIFYPEER and VERIFYHOST stay on). */
        SETOPT(CURLOPT_PROTOCOLS_STR, protocols);
        SETOPT(CURLOPT_REDIR_PROTOCOLS_STR, protocols);
        if (c->ca_file)
                SETOPT(CURLOPT_CAINFO, c->ca_file);
        /* Blob GETs are commonly answered with 307 to a storage service.
         * Credentials are given to curl as its own auth (not as a custom
         * header), and CURLOPT_UNRESTRICTED_AUTH stays off, so curl sends
         * them only to the host, port and scheme we asked: never to the
         * storage host a redirect points at. */
        SETOPT(CURLOPT_FOLLOWLOCATION, 1L);
        SETOPT(CURLOPT_MAXREDIRS, MAX_REDIRECTS);
        SETOPT(CURLOPT_CONNECTTIMEOUT, (long) c->connect_timeout);
        /* A stall, not a total time limit, ends a transfer: layers can be
         * large and lines slow. */
        SETOPT(CURLOPT_LOW_SPEED_LIMIT, (long) c->low_speed_limit);
        SETOPT(CURLOPT_LOW_SPEED_TIME, (long) c->low_speed_time);
        SETOPT(CURLOPT_HEADERFUNCTION, header_cb);
        SETOPT(CURLOPT_HEADERDATA, t);
        SETOPT(CURLOPT_WRITEFUNCTION, write_cb);
        SETOPT(CURLOPT_WRITEDATA, t);
        /* No Accept-Encoding: a digest covers the bytes as stored, and
         * layers are compressed already. */

        r = easy_set_headers(t, easy);
        if (r < 0)
                return r;
        r = easy_set_auth(t, easy);
        if (r < 0)
                return r;
        t->easy = TAKE_PTR(easy);
        return 0;
}

#undef SETOPT

static int transfer_start(Transfer *t, CURLM *multi) {
        int r;

        transfer_detach(t);
        transfer_reset_response(t);
        t->abort_error = 0;
        t->tries++;
        if (t->kind == TRANSFER_BLOB && !t->md.ctx) {
                r = md_start(t);
                if (r < 0)
                        return r;
        }
        r = easy_setup(t);
        if (r < 0)
                return r;
        if (curl_multi_add_handle(multi, t->easy) != CURLM_OK)
                return -EIO;
        t->multi = multi;
        t->running = true;
        return 0;
}

static int transfers_run(RegistryClient *c, CURLM *multi, Transfer **ts, size_t n, unsigned max_parallel);

/* The token request tt for ch: a GET with our credentials for the
 * registry (if any), or a POST that trades an identity token. */
static int token_request_prepare(Transfer *t, const AuthChallenge *ch, Transfer *tt) {
        RegistryClient *c = t->client;
        _cleanup_(curl_freep) char *service = NULL, *scope = NULL, *refresh = NULL;
        int r = 0;

        service = curl_easy_escape(NULL, strempty(ch->service), 0);
        scope = curl_easy_escape(NULL, ch->scope ?: t->scope, 0);
        if (!service || !scope || asprintf(&tt->what, "token for %s", t->registry) < 0)
                return -ENOMEM;
        if (!(c->identity_token && streq_ptr(t->registry, c->bearer_registry)))
                return asprintf(&tt->url, "%s%sservice=%s&scope=%s", ch->realm, strchr(ch->realm, '?') ? "&" : "?", service,
                                scope) < 0 ? -ENOMEM : 0;
        /* An identity token is an OAuth2 refresh token: traded for an
         * access token by a POST to the realm (docker's "identitytoken"),
         * with no other credentials. */
        tt->token_credentials = NULL;
        refresh = curl_easy_escape(NULL, c->identity_token, 0);
        if (!refresh ||
            asprintf(&tt->post, "grant_type=refresh_token&client_id=peapod&service=%s&scope=%s&refresh_token=%s", service,
                     scope, refresh) < 0 ||
            !(tt->url = strdup(ch->realm)))
                r = -ENOMEM;
        if (refresh)
                explicit_bzero(refresh, strlen(refresh));
        return r;
}

/* Why the token request tt failed, told in t's error. */
static int token_request_error(Transfer *t, const Transfer *tt, int r) {
        if (tt->post && (tt->error.http_status == 400 || tt->error.http_status == 401))
                (void) peapod_error_set(&t->error, -EACCES, "%s: authentication failed for %s: the identity token was refused",
                                        t->what, t->registry);
        else if (tt->error.http_status == 401)
                (void) peapod_error_set(&t->error, -EACCES, "%s: authentication failed for %s: %s", t->what, t->registry,
                                        tt->token_credentials ? "bad credentials (the token service refused them)"
                                                              : "credentials required, none in the auth file");
        else
                (void) peapod_error_set(&t->error, r, "%s: fetching a token failed: %s", t->what, tt->error.message);
        t->error.http_status = tt->error.http_status;
        return r;
}

/* Ask the realm of a Bearer challenge for a token for scope, with the
 * registry's credentials if we have any. */
static int auth_fetch_token(Transfer *t, const AuthChallenge *ch) {
        RegistryClient *c = t->client;
        _cleanup_(curl_multi_cleanupp) CURLM *multi = NULL;
        _cleanup_free_ char *token = NULL;
        Transfer tt = {
                .client = c,
                .kind = TRANSFER_TOKEN,
                .max = TOKEN_BODY_MAX,
                .token_credentials = auth_file_find(c->auth, t->registry),
                .content_length = UINT64_MAX,
        };
        Transfer *list[] = { &tt };
        uint64_t lifetime;
        int r;

        /* A message from an earlier attempt of this transfer is stale now:
         * the reason below (if any) is the one that counts. */
        t->error.message[0] = 0;

        if (!ch->realm)
                return peapod_error_set(&t->error, -EBADMSG, "%s: Bearer challenge without a realm", t->what);
        /* The registry names where our credentials go. Trust it as much as
         * the registry itself, but never send them in clear text unless that
         * registry is marked insecure. */
        if (!startswith(ch->realm, "https://") && !(t->insecure && startswith(ch->realm, "http://")))
                return peapod_error_set(&t->error, -EPERM, "%s: refusing token realm '%.200s': not HTTPS", t->what, ch->realm);

        tt.insecure = t->insecure;
        r = token_request_prepare(t, ch, &tt);
        if (r >= 0 && !(multi = curl_multi_init()))
                r = -ENOMEM;
        if (r >= 0)
                r = transfers_run(c, multi, list, 1, 1);
        if (r >= 0)
                r = tt.result;
        if (r < 0) {
                if (r != -ENOMEM)
                        r = token_request_error(t, &tt, r);
                transfer_done(&tt);
                return r;
        }
        r = registry_token_parse(tt.buf, tt.size, &token, &lifetime);
        transfer_done(&tt);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return peapod_error_set(&t->error, -EBADMSG, "%s: token service answered without a token", t->what);
        r = token_store(c, t->registry, t->scope, token, lifetime);
        explicit_bzero(token, strlen(token));
        return r;
}

bool registry_token_is_valid(const char *token) {
        if (isempty(token) || strlen(token) > 4096)
                return false;
        for (const char *p = token; *p; p++)
                if (*p <= ' ' || *p >= 0x7f)
                        return false;
        return true;
}

int registry_token_parse(const char *body, size_t size, char **ret_token, uint64_t *ret_lifetime_usec) {
        _cleanup_json_ json_object *root = NULL;
        int64_t expires_in = 60;
        const char *token;
        char *copy;

        if (!body || size == 0 ||
            json_parse_untrusted(body, size, TOKEN_BODY_MAX, REGISTRY_JSON_DEPTH_MAX, &root, NULL) < 0)
                return -EBADMSG;
        /* "token" is the spec's name, "access_token" the OAuth2 one; both are sent by some services. */
        if (!json_object_is_type(root, json_type_object) || (json_get_string(root, "token", &token) < 0 && json_get_string(root, "access_token", &token) < 0) ||
            isempty(token))
                return -EBADMSG;
        /* It goes into an Authorization header as it is: visible ASCII only
         * (RFC 6750's b64token is narrower still), so a token service
         * cannot add header lines to our requests. */
        for (const char *p = token; *p; p++)
                if (*p <= ' ' || *p >= 0x7f)
                        return -EBADMSG;
        (void) json_get_int64(root, "expires_in", &expires_in);
        /* The spec says to assume 60 s when less (or nothing) is given; cap a
         * day so a bogus value cannot pin a stale token. */
        if (expires_in < 60)
                expires_in = 60;
        if (expires_in > 86400)
                expires_in = 86400;
        copy = strdup(token);
        if (!copy)
                return -ENOMEM;
        *ret_token = copy;
        /* Renew a little early rather than race the expiry. */
        *ret_lifetime_usec = (uint64_t) (expires_in - 10) * USEC_PER_SEC;
        return 0;
}

static bool curl_code_is_transient(CURLcode code) {
        switch (code) {
        case CURLE_RECV_ERROR:
        case CURLE_SEND_ERROR:
        case CURLE_PARTIAL_FILE:
        case CURLE_OPERATION_TIMEDOUT:
        case CURLE_GOT_NOTHING:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
        case CURLE_HTTP3:
                return true;
        default:
                return false;
        }
}

static void transfer_retry(Transfer *t, uint64_t min_delay) {
        uint64_t delay = t->client->retry_delay_usec << (t->tries - 1);

        if (delay < min_delay)
                delay = min_delay;
        t->not_before_usec = now_usec(CLOCK_MONOTONIC) + delay;
}

/* "host[:port]" of the URL the failed attempt ended on (after redirects). */
static void effective_host(CURL *easy, char *buf, size_t n) {
        _cleanup_(curl_freep) char *host = NULL, *port = NULL;
        char *url = NULL;
        CURLU *u;

        snprintf(buf, n, "?");
        if (curl_easy_getinfo(easy, CURLINFO_EFFECTIVE_URL, &url) != CURLE_OK || !url || !(u = curl_url()))
                return;
        if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK && curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
                (void) curl_url_get(u, CURLUPART_PORT, &port, 0);
                snprintf(buf, n, "%s%s%s", host, port ? ":" : "", strempty(port));
        }
        curl_url_cleanup(u);
}

static void transfer_fail_curl(Transfer *t, CURLcode code) {
        const char *msg = t->errbuf[0] ? t->errbuf : curl_easy_strerror(code);
        char host[300];

        effective_host(t->easy, host, sizeof(host));
        switch (code) {
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CACERT_BADFILE:
                transfer_error(t, -EKEYREJECTED,
                               "%s: TLS certificate verification failed for %s (%s); mark the registry insecure in "
                               "registries.conf only if you trust the network",
                               t->what, host, msg);
                break;
        case CURLE_SSL_CONNECT_ERROR:
                transfer_error(t, -EPROTO,
                               "%s: TLS handshake with %s failed (%s); a registry serving plain HTTP must be marked "
                               "insecure in registries.conf",
                               t->what, host, msg);
                break;
        case CURLE_COULDNT_CONNECT:
                transfer_error(t, -ECONNREFUSED, "%s: connection refused: %s", t->what, msg);
                break;
        case CURLE_COULDNT_RESOLVE_HOST:
                transfer_error(t, -EHOSTUNREACH, "%s: %s", t->what, msg);
                break;
        case CURLE_TOO_MANY_REDIRECTS:
                transfer_error(t, -ELOOP, "%s: more than %ld redirects", t->what, MAX_REDIRECTS);
                break;
        case CURLE_UNSUPPORTED_PROTOCOL:
                transfer_error(t, -EPROTONOSUPPORT, "%s: %s (plain HTTP is only used for registries marked insecure)", t->what,
                               msg);
                break;
        case CURLE_OPERATION_TIMEDOUT:
                transfer_error(t, -ETIMEDOUT, "%s: %s (after %u tries)", t->what, msg, t->tries);
                break;
        default:
                if (curl_code_is_transient(code))
                        transfer_error(t, -EIO, "%s: %s (after %u tries)", t->what, msg, t->tries);
                else
                        transfer_error(t, -EIO, "%s: %s", t->what, msg);
        }
}

static void transfer_finish_ok(Transfer *t, long status) {
        char computed[7 + 64 + 1];
        int r;

        if (t->kind == TRANSFER_TOKEN || t->kind == TRANSFER_PING)
                goto done;

        if (t->kind == TRANSFER_MANIFEST) {
                bool ok = false;

                FOREACH_STRV(a, t->accept)
                        if (content_type_is(t->content_type, a))
                                ok = true;
                if (!ok) {
                        _cleanup_free_ char *ct = strndup(strna(t->content_type), 128);
                        if (ct)
                                sanitize(ct);
                        return transfer_error(t, -EPROTO, "%s: unsupported media type '%s'", t->what, strna(ct));
                }
                if (!t->buf) {
                        t->buf = strdup("");
                        if (!t->buf)
                                return transfer_error(t, -ENOMEM, "out of memory");
                }
                r = sha256_buffer(t->buf, t->size, computed);
                if (r < 0)
                        return transfer_error(t, r, "%s: hashing failed", t->what);
                if (t->digest && !streq(t->digest, computed))
                        return transfer_error(t, -EBADMSG, "%s: digest mismatch: content has %s", t->what, computed);
                /* The registry's own claim must hold too: a mismatch means a
                 * broken registry or a man in the middle. */
                if (t->docker_digest && startswith(t->docker_digest, "sha256:") && !streq(t->docker_digest, computed)) {
                        _cleanup_free_ char *d = strndup(t->docker_digest, 80);
                        if (d)
                                sanitize(d);
                        return transfer_error(t, -EBADMSG, "%s: digest mismatch: registry says %s, content has %s", t->what,
                                              strna(d), computed);
                }
                free(t->docker_digest);
                t->docker_digest = strdup(computed);
                if (!t->docker_digest)
                        return transfer_error(t, -ENOMEM, "out of memory");
                goto done;
        }

        /* A blob (transfer_body_begin() has dealt with a 200 answer to a range request). */
        if (t->received != t->expected_size)
                return transfer_error(t, -EBADMSG, "%s: size mismatch: got %" PRIu64 " bytes, expected %" PRIu64, t->what,
                                      t->received, t->expected_size);
        r = md_finish(&t->md, computed);
        if (r < 0)
                return transfer_error(t, r, "%s: hashing failed", t->what);
        if (!streq(computed, t->digest))
                return transfer_error(t, -EBADMSG, "%s: digest mismatch: content has %s", t->what, computed);
done:
        t->result = 0;
        t->done = true;
}

/* The transfer was aborted by us (a limit, a sink's failure). */
static void transfer_finish_aborted(Transfer *t) {
        if (t->abort_error == -EFBIG)
                transfer_error(t, -EFBIG, "%s too large: more than %" PRIu64 " bytes", t->what,
                               t->kind == TRANSFER_BLOB ? t->expected_size : (uint64_t) t->max);
        else if (t->error.message[0]) {
                t->result = t->abort_error;
                t->done = true;
        } else
                transfer_error(t, t->abort_error, "%s: %s", t->what, strerror(-t->abort_error));
}

/* A 401: once, authenticate as the registry's challenge asks (a new token,
 * or Basic with the auth file's credentials) and try again. */
static void transfer_reauthenticate(Transfer *t, const char *desc) {
        RegistryClient *c = t->client;
        AuthChallenge *chs = NULL;
        size_t n = 0;
        const AuthChallenge *bearer = NULL, *basic = NULL;
        int r;

        if (c->bearer_token && streq_ptr(t->registry, c->bearer_registry)) {
                transfer_error(t, -EACCES, "%s: authentication failed for %s: the registry token was refused%s", t->what,
                               t->registry, desc);
                return;
        }
        if (t->auth_retried) {
                transfer_error(t, -EACCES, "%s: authentication failed for %s: %s%s", t->what, t->registry,
                               auth_file_find(c->auth, t->registry) ? "bad credentials or no access"
                                                                    : "authentication required, no credentials in the auth file",
                               desc);
                return;
        }
        t->auth_retried = true;
        FOREACH_STRV(h, t->challenges) {
                auth_challenges_free(chs, n);
                if (www_authenticate_parse(h, &chs, &n) < 0) {
                        chs = NULL;
                        n = 0;
                        continue;
                }
                for (size_t i = 0; i < n; i++)
                        if (!bearer && strcasecmp(chs[i].scheme, "Bearer") == 0)
                                bearer = &chs[i];
                        else if (!basic && strcasecmp(chs[i].scheme, "Basic") == 0)
                                basic = &chs[i];
                if (bearer || basic)
                        break;
        }
        if (bearer && !t->used_credentials && token_find(c, t->registry, t->scope))
                /* Another transfer fetched a token meanwhile. */
                t->not_before_usec = 0;
        else if (bearer) {
                /* A token we sent was refused (expired, revoked): get a new one, once. */
                token_forget(c, t->registry, t->scope);
                r = auth_fetch_token(t, bearer);
                if (r < 0) {
                        t->result = r;
                        t->done = true;
                } else
                        t->not_before_usec = 0;
        } else if (basic && auth_file_find(c->auth, t->registry)) {
                if (!strv_contains(c->basic_registries, t->registry) && strv_extend(&c->basic_registries, t->registry) < 0)
                        transfer_error(t, -ENOMEM, "out of memory");
                else
                        t->not_before_usec = 0;
        } else
                transfer_error(t, -EACCES, "%s: authentication required by %s%s%s", t->what, t->registry,
                               basic ? " and no credentials for it in the auth file" : " (no usable challenge)", desc);
        auth_challenges_free(chs, n);
}

/* The registry answered with status: done, retried, or an error. */
static void transfer_finish_http(Transfer *t, long status) {
        RegistryClient *c = t->client;
        char desc[256];

        error_body_describe(t, desc, sizeof(desc));
        if (status >= 200 && status <= 299) {
                transfer_finish_ok(t, status);
                return;
        }
        if (status == 429 || (status >= 500 && status <= 599)) {
                if (t->tries < c->max_tries) {
                        transfer_retry(t, t->retry_after_usec);
                        return;
                }
                transfer_error(t, -EIO, "%s: HTTP %ld%s (after %u tries)", t->what, status, desc, t->tries);
                return;
        }
        if (status == 401 && t->kind != TRANSFER_TOKEN) {
                transfer_reauthenticate(t, desc);
                return;
        }
        if (status == 401) {
                transfer_error(t, -EACCES, "%s: HTTP 401%s", t->what, desc);
                return;
        }
        if (status == 403) {
                transfer_error(t, -EACCES, "%s: access denied%s", t->what, desc);
                return;
        }
        if (status == 404) {
                transfer_error(t, -ENOENT, "%s: %s%s", t->what,
                               t->kind == TRANSFER_MANIFEST ? "manifest unknown" : t->kind == TRANSFER_BLOB ? "blob unknown" : "not found",
                               desc);
                return;
        }
        if (status == 416 && t->kind == TRANSFER_BLOB && t->received > 0 && t->tries < c->max_tries) {
                /* Our resume offset was refused: start over from the beginning. */
                int r = blob_reset(t);
                if (r < 0)
                        transfer_error(t, r, "%s: transfer must start over but the sink cannot be reset", t->what);
                else
                        transfer_retry(t, 0);
                return;
        }
        transfer_error(t, -EIO, "%s: unexpected HTTP status %ld%s", t->what, status, desc);
}

static void transfer_finish(Transfer *t, CURLcode code) {
        RegistryClient *c = t->client;
        long status = 0;

        (void) curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
        if (code == CURLE_OK && !t->body_started)
                (void) transfer_body_begin(t);
        t->error.http_status = (int) status;

        if (t->abort_error != 0)
                transfer_finish_aborted(t);
        else if (code != CURLE_OK) {
                if (curl_code_is_transient(code) && t->tries < c->max_tries)
                        transfer_retry(t, 0);
                else
                        transfer_fail_curl(t, code);
        } else
                transfer_finish_http(t, status);

        if (t->done && t->result == 0)
                t->error.message[0] = 0;
        transfer_detach(t);
}

static int transfers_run(RegistryClient *c, CURLM *multi, Transfer **ts, size_t n, unsigned max_parallel) {
        for (;;) {
                uint64_t now = now_usec(CLOCK_MONOTONIC), next = UINT64_MAX;
                unsigned running = 0;
                bool waiting = false;
                CURLMsg *msg;
                int still, left;
                long tmo = -1;
                bool finished = false;

                if (c->cancelled) {
                        /* Nothing more is read: transfers still running or
                         * waiting for a retry end here. */
                        for (size_t i = 0; i < n; i++)
                                if (!ts[i]->done) {
                                        transfer_detach(ts[i]);
                                        transfer_error(ts[i], -ECANCELED, "%s: cancelled", ts[i]->what);
                                }
                        return 0;
                }

                for (size_t i = 0; i < n; i++)
                        if (ts[i]->running)
                                running++;
                for (size_t i = 0; i < n; i++) {
                        Transfer *t = ts[i];
                        int r;

                        if (t->done || t->running)
                                continue;
                        if (t->not_before_usec > now) {
                                next = MIN(next, t->not_before_usec);
                                waiting = true;
                                continue;
                        }
                        if (running >= max_parallel) {
                                waiting = true;
                                continue;
                        }
                        r = transfer_start(t, multi);
                        if (r < 0) {
                                transfer_detach(t);
                                transfer_error(t, r, "%s: setting up the transfer failed: %s", t->what, strerror(-r));
                                continue;
                        }
                        running++;
                }
                if (running == 0 && !waiting)
                        return 0;

                if (curl_multi_perform(multi, &still) != CURLM_OK)
                        return -EIO;
                while ((msg = curl_multi_info_read(multi, &left))) {
                        char *priv = NULL;

                        if (msg->msg != CURLMSG_DONE)
                                continue;
                        (void) curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
                        transfer_finish((Transfer *) priv, msg->data.result);
                        finished = true;
                }
                /* Start what can start now, before waiting for anything. */
                if (finished)
                        continue;

                (void) curl_multi_timeout(multi, &tmo);
                if (next != UINT64_MAX) {
                        uint64_t now2 = now_usec(CLOCK_MONOTONIC);
                        long w = next > now2 ? (long) ((next - now2) / USEC_PER_MSEC) + 1 : 0;
                        if (tmo < 0 || w < tmo)
                                tmo = w;
                }
                if (tmo < 0 || tmo > 1000)
                        tmo = 1000;
                if (curl_multi_poll(multi, NULL, 0, (int) tmo, NULL) != CURLM_OK)
                        return -EIO;
        }
}

int registry_client_new(const RegistryClientOptions *o, RegistryClient **ret) {
        _cleanup_(registry_client_freep) RegistryClient *c = NULL;
        static const RegistryClientOptions defaults = {};

        o = o ?: &defaults;
        /* Idempotent and, since curl 7.84, thread-safe. */
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                return -EIO;
        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->config = o->config;
        c->auth = o->auth;
        if (o->bearer_token && o->identity_token)
                return -EINVAL;
        if (o->bearer_token) {
                /* It goes into an Authorization header as it is: visible
                 * ASCII only, so that it cannot add header lines. */
                if (!registry_token_is_valid(o->bearer_token))
                        return -EINVAL;
                c->bearer_token = strdup(o->bearer_token);
                if (!c->bearer_token)
                        return -ENOMEM;
        }
        if (o->identity_token) {
                /* URL-encoded into a form body: any byte is fine, but bounded. */
                if (isempty(o->identity_token) || strlen(o->identity_token) > 4096)
                        return -EINVAL;
                c->identity_token = strdup(o->identity_token);
                if (!c->identity_token)
                        return -ENOMEM;
        }
        if (o->bearer_token || o->identity_token) {
                c->bearer_registry = strdup(strempty(o->bearer_registry));
                if (!c->bearer_registry)
                        return -ENOMEM;
        }
        c->max_connections = o->max_connections ?: 4;
        c->max_tries = o->max_tries ?: 4;
        c->retry_delay_usec = o->retry_delay_usec ?: 200 * USEC_PER_MSEC;
        c->low_speed_limit = o->low_speed_limit ?: 1024;
        c->low_speed_time = o->low_speed_time ?: 30;
        c->connect_timeout = o->connect_timeout ?: 30;
        if (o->ca_file) {
                c->ca_file = strdup(o->ca_file);
                if (!c->ca_file)
                        return -ENOMEM;
        }
        c->multi = curl_multi_init();
        if (!c->multi)
                return -ENOMEM;
        *ret = TAKE_PTR(c);
        return 0;
}

RegistryClient *registry_client_free(RegistryClient *c) {
        if (!c)
                return NULL;
        if (c->multi)
                (void) curl_multi_cleanup(c->multi);
        for (size_t i = 0; i < c->n_tokens; i++)
                token_done(&c->tokens[i]);
        free(c->tokens);
        strv_free(c->basic_registries);
        free(c->ca_file);
        free(c->bearer_registry);
        if (c->bearer_token)
                explicit_bzero(c->bearer_token, strlen(c->bearer_token));
        free(c->bearer_token);
        if (c->identity_token)
                explicit_bzero(c->identity_token, strlen(c->identity_token));
        free(c->identity_token);
        free(c);
        return NULL;
}

/* Where a repository can be fetched from, in order: its mirrors, then the
 * registry itself. */
static int registry_endpoints(RegistryClient *c, const ImageReference *ref, char ***ret) {
        const RegistryEntry *x = registries_conf_find(c->config, ref->registry, ref->repository);
        _cleanup_strv_free_ char **l = NULL;

        if (x)
                FOREACH_STRV(m, x->mirrors)
                        if (strv_extend(&l, m) < 0)
                                return -ENOMEM;
        if (strv_extend(&l, ref->registry) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(l);
        return 0;
}

static int transfer_init(RegistryClient *c, Transfer *t, TransferKind kind, const char *endpoint, const ImageReference *ref,
                         const char *object, const char *scope) {
        _cleanup_free_ char *name = NULL;
        bool insecure = registries_conf_is_insecure(c->config, endpoint, ref->repository);
        int r;

        r = image_reference_to_string(ref, &name);
        if (r < 0)
                return r;
        *t = (Transfer) {
                .client = c,
                .kind = kind,
                .registry = endpoint,
                .scope = scope,
                .insecure = insecure,
                .content_length = UINT64_MAX,
        };
        if (asprintf(&t->url, "%s://%s/v2/%s/%s/%s", insecure ? "http" : "https", registry_api_host(endpoint), ref->repository,
                     kind == TRANSFER_MANIFEST ? "manifests" : "blobs", object) < 0)
                return -ENOMEM;
        if (kind == TRANSFER_MANIFEST)
                r = asprintf(&t->what, "manifest %s%s%s", name, streq(endpoint, ref->registry) ? "" : " via mirror ",
                             streq(endpoint, ref->registry) ? "" : endpoint);
        else
                r = asprintf(&t->what, "blob %s of %s/%s%s%s", object, ref->registry, ref->repository,
                             streq(endpoint, ref->registry) ? "" : " via mirror ", streq(endpoint, ref->registry) ? "" : endpoint);
        return r < 0 ? -ENOMEM : 0;
}

static int reference_check(const ImageReference *ref, PeapodError *e) {
        if (!ref || !ref->repository || !image_reference_object(ref))
                return peapod_error_set(e, -EINVAL, "invalid image reference");
        if (!ref->registry)
                return peapod_error_set(e, -EINVAL, "\"%s\" is a short name: resolve it first", ref->repository);
        return 0;
}

int registry_get_manifest(RegistryClient *c, const ImageReference *ref, char * const *accept_types, char **ret_body,
                          size_t *ret_size, char **ret_content_type, char **ret_digest, PeapodError *e) {
        /* The media type names live in manifest.c, with their parser. */
        char * const all_types[] = {
                (char *) media_type_to_string(MEDIA_TYPE_OCI_MANIFEST),
                (char *) media_type_to_string(MEDIA_TYPE_OCI_INDEX),
                (char *) media_type_to_string(MEDIA_TYPE_DOCKER_MANIFEST),
                (char *) media_type_to_string(MEDIA_TYPE_DOCKER_MANIFEST_LIST),
                NULL,
        };
        _cleanup_strv_free_ char **endpoints = NULL;
        _cleanup_free_ char *scope = NULL;
        int r;

        r = reference_check(ref, e);
        if (r < 0)
                return r;
        if (strv_length(accept_types) == 0)
                accept_types = all_types;
        FOREACH_STRV(a, accept_types)
                if (strpbrk(a, "\r\n,"))
                        return peapod_error_set(e, -EINVAL, "invalid media type");
        r = registry_endpoints(c, ref, &endpoints);
        if (r < 0)
                return r;
        if (asprintf(&scope, "repository:%s:pull", ref->repository) < 0)
                return -ENOMEM;

        FOREACH_STRV(endpoint, endpoints) {
                Transfer t;
                Transfer *list[] = { &t };

                r = transfer_init(c, &t, TRANSFER_MANIFEST, endpoint, ref, image_reference_object(ref), scope);
                if (r < 0) {
                        transfer_done(&t);
                        return r;
                }
                t.accept = accept_types;
                t.digest = ref->digest;
                t.max = REGISTRY_MANIFEST_MAX;
                r = transfers_run(c, c->multi, list, 1, 1);
                transfer_detach(&t);
                if (r >= 0)
                        r = t.result;
                if (r < 0) {
                        if (e)
                                *e = t.error;
                        transfer_done(&t);
                        /* A digest mismatch is not something another mirror fixes silently: stop. */
                        if (r == -EBADMSG)
                                return r;
                        continue;
                }
                if (ret_content_type) {
                        char *ct = strndup(t.content_type, strcspn(t.content_type, "; \t"));
                        if (!ct) {
                                transfer_done(&t);
                                return -ENOMEM;
                        }
                        *ret_content_type = ct;
                }
                if (ret_digest)
                        *ret_digest = TAKE_PTR(t.docker_digest);
                if (ret_size)
                        *ret_size = t.size;
                *ret_body = TAKE_PTR(t.buf);
                transfer_done(&t);
                if (e) /* a mirror may have failed before */
                        *e = (PeapodError) {};
                return 0;
        }
        return r;
}

int registry_check_login(RegistryClient *c, const char *registry, PeapodError *e) {
        bool insecure = registries_conf_is_insecure(c->config, registry, NULL);
        Transfer t = {
                .client = c,
                .kind = TRANSFER_PING,
                .registry = registry,
                /* docker login's token request names no repository either. */
                .scope = "",
                .insecure = insecure,
                .content_length = UINT64_MAX,
                .max = ERROR_BODY_MAX,
        };
        Transfer *list[] = { &t };
        int r;

        if (asprintf(&t.url, "%s://%s/v2/", insecure ? "http" : "https", registry_api_host(registry)) < 0 ||
            asprintf(&t.what, "registry %s", registry) < 0) {
                transfer_done(&t);
                return -ENOMEM;
        }
        r = transfers_run(c, c->multi, list, 1, 1);
        transfer_detach(&t);
        if (r >= 0)
                r = t.result;
        if (r < 0 && e)
                *e = t.error;
        transfer_done(&t);
        return r;
}

/* The results of one pass's k transfers (the loop's own result r) into
 * their requests; final marks the requests no other endpoint may retry. */
static void blob_transfers_collect(RegistryBlobRequest *requests, Transfer *ts, size_t k, int r, bool *final) {
        for (size_t j = 0; j < k; j++) {
                RegistryBlobRequest *q = &requests[ts[j].index];

                transfer_detach(&ts[j]);
                if (r < 0)
                        transfer_error(&ts[j], r, "%s: transfer loop failed", ts[j].what);
                else if (!ts[j].done)
                        transfer_error(&ts[j], -EIO, "%s: not finished", ts[j].what);
                /* What another endpoint cannot fix: wrong content (a mirror
                 * serving it is no reason to trust the next one blindly),
                 * and a sink holding bytes it cannot discard. */
                if (ts[j].result == -EBADMSG || ts[j].result == -EFBIG || ts[j].result == -ECANCELED)
                        final[ts[j].index] = true;
                if (ts[j].result < 0 && ts[j].received > 0 && (!q->sink.reset || q->sink.reset(q->sink.userdata) < 0))
                        final[ts[j].index] = true;
                q->result = ts[j].result;
                q->error = ts[j].error;
                transfer_done(&ts[j]);
        }
}

int registry_get_blobs(RegistryClient *c, const ImageReference *ref, RegistryBlobRequest *requests, size_t n,
                       RegistryProgress progress, void *userdata, PeapodError *e) {
        _cleanup_strv_free_ char **endpoints = NULL;
        _cleanup_free_ char *scope = NULL;
        _cleanup_free_ Transfer *ts = NULL;
        _cleanup_free_ Transfer **list = NULL;
        _cleanup_free_ bool *final = NULL;
        int r;

        r = reference_check(ref, e);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                requests[i].result = -EAGAIN;
                requests[i].error = (PeapodError) {};
                if (!image_digest_is_valid(requests[i].digest) || !requests[i].sink.write)
                        return peapod_error_set(e, -EINVAL, "invalid blob request %zu", i);
        }
        if (n == 0)
                return 0;
        c->cancelled = false;
        r = registry_endpoints(c, ref, &endpoints);
        if (r < 0)
                return r;
        if (asprintf(&scope, "repository:%s:pull", ref->repository) < 0)
                return -ENOMEM;
        ts = calloc(n, sizeof(Transfer));
        list = calloc(n, sizeof(Transfer *));
        final = calloc(n, sizeof(bool));
        if (!ts || !list || !final)
                return -ENOMEM;

        FOREACH_STRV(endpoint, endpoints) {
                size_t k = 0;

                for (size_t i = 0; i < n; i++) {
                        if (requests[i].result >= 0 || final[i])
                                continue;
                        r = transfer_init(c, &ts[k], TRANSFER_BLOB, endpoint, ref, requests[i].digest, scope);
                        if (r < 0) {
                                for (size_t j = 0; j <= k; j++)
                                        transfer_done(&ts[j]);
                                return r;
                        }
                        ts[k].index = i;
                        ts[k].digest = requests[i].digest;
                        ts[k].expected_size = requests[i].size;
                        ts[k].sink = requests[i].sink;
                        ts[k].progress = progress;
                        ts[k].userdata = userdata;
                        list[k] = &ts[k];
                        k++;
                }
                if (k == 0)
                        break;
                r = transfers_run(c, c->multi, list, k, c->max_connections);
                blob_transfers_collect(requests, ts, k, r, final);
        }

        for (size_t i = 0; i < n; i++)
                if (requests[i].result < 0) {
                        if (e)
                                *e = requests[i].error;
                        return requests[i].result;
                }
        return 0;
}

int registry_get_blob(RegistryClient *c, const ImageReference *ref, const char *digest, uint64_t expected_size,
                      const RegistrySink *sink, RegistryProgress progress, void *userdata, PeapodError *e) {
        RegistryBlobRequest q = {
                .digest = digest,
                .size = expected_size,
                .sink = *sink,
        };

        return registry_get_blobs(c, ref, &q, 1, progress, userdata, e);
}

int registry_fd_sink_write(const void *data, size_t size, void *userdata) {
        return loop_write((int) (intptr_t) userdata, data, size);
}

int registry_fd_sink_reset(void *userdata) {
        int fd = (int) (intptr_t) userdata;

        if (ftruncate(fd, 0) < 0)
                return -errno;
        if (lseek(fd, 0, SEEK_SET) < 0)
                return -errno;
        return 0;
}

void auth_challenges_free(AuthChallenge *c, size_t n) {
        if (!c)
                return;
        for (size_t i = 0; i < n; i++) {
                free(c[i].scheme);
                free(c[i].realm);
                free(c[i].service);
                free(c[i].scope);
                free(c[i].error);
        }
        free(c);
}

/* RFC 7230 tchar. */
static bool is_tchar(char c) {
        /* strchr() finds the terminating NUL too: exclude it. */
        return c != 0 && isascii(c) && (isalnum(c) || strchr("!#$%&'*+-.^_`|~", c));
}

static const char *skip_ows(const char *p) {
        while (*p == ' ' || *p == '\t')
                p++;
        return p;
}

/* token68 characters (RFC 7235). */
static bool is_token68_char(char c) {
        return c != 0 && isascii(c) && (isalnum(c) || strchr("-._~+/", c));
}

/* A quoted-string, or an unquoted value. Unquoted values are taken up to the
 * next comma or blank, more leniently than RFC 7235's token: registries
 * have been seen sending realm=https://... unquoted. Advances *p. */
static int parse_value(const char **p, char **ret) {
        const char *s = *p;
        _cleanup_free_ char *v = NULL;
        size_t n = 0;

        if (*s == '"') {
                v = malloc(strlen(s) + 1);
                if (!v)
                        return -ENOMEM;
                for (s++;; s++) {
                        if (*s == 0)
                                return -EBADMSG; /* unterminated */
                        if (*s == '"')
                                break;
                        if (*s == '\\' && *++s == 0)
                                return -EBADMSG;
                        v[n++] = *s;
                }
                v[n] = 0;
                *p = s + 1;
        } else {
                n = strcspn(s, ", \t\"");
                if (n == 0)
                        return -EBADMSG;
                v = strndup(s, n);
                if (!v)
                        return -ENOMEM;
                *p = s + n;
        }
        *ret = TAKE_PTR(v);
        return 0;
}

/* After an element: optional blanks, then a comma or the end. */
static int expect_separator(const char **p) {
        *p = skip_ows(*p);
        if (**p == ',') {
                (*p)++;
                return 0;
        }
        return **p == 0 ? 0 : -EBADMSG;
}

/* auth-param at *p (its name kt long, its value at v) into ch: realm,
 * service, scope and error are kept, others skipped. */
static int auth_param_parse(const char **p, size_t kt, const char *v, AuthChallenge *ch) {
        _cleanup_free_ char *name = NULL, *value = NULL;
        char **slot = NULL;
        int r;

        name = strndup(*p, kt);
        if (!name)
                return -ENOMEM;
        *p = v;
        r = parse_value(p, &value);
        if (r < 0)
                return r;
        if (strcasecmp(name, "realm") == 0)
                slot = &ch->realm;
        else if (strcasecmp(name, "service") == 0)
                slot = &ch->service;
        else if (strcasecmp(name, "scope") == 0)
                slot = &ch->scope;
        else if (strcasecmp(name, "error") == 0)
                slot = &ch->error;
        if (slot) {
                /* A repeated parameter is ambiguous: refuse rather than guess. */
                if (*slot)
                        return -EBADMSG;
                *slot = TAKE_PTR(value);
        }
        return expect_separator(p);
}

/* A new challenge of scheme p (kt long) at the end of *l; counted in *n
 * even when half made, so that auth_challenges_free() frees it. */
static int auth_challenge_add(AuthChallenge **l, size_t *n, const char *p, size_t kt) {
        AuthChallenge *nl;

        if (*n >= AUTH_CHALLENGES_MAX)
                return -E2BIG;
        nl = reallocarray(*l, *n + 1, sizeof(AuthChallenge));
        if (!nl)
                return -ENOMEM;
        *l = nl;
        nl[*n] = (AuthChallenge) { .scheme = strndup(p, kt) };
        if (!nl[(*n)++].scheme)
                return -ENOMEM;
        return 0;
}

/* challenge = scheme [ 1*SP ( token68 / #auth-param ) ], and challenges and
 * parameters share one comma-separated list: after a comma, "name=value" is a
 * parameter of the current challenge and a lone token starts a new one. */
int www_authenticate_parse(const char *header, AuthChallenge **ret, size_t *ret_n) {
        AuthChallenge *l = NULL;
        size_t n = 0;
        bool after_scheme = false;
        const char *p;
        int r = 0;

        if (!header || strlen(header) > WWW_AUTHENTICATE_MAX)
                return -EBADMSG;
        p = header;
        for (;;) {
                const char *q, *v;
                size_t kt = 0, k68 = 0;

                p = skip_ows(p);
                if (*p == ',') { /* empty list elements are allowed */
                        p++;
                        after_scheme = false;
                        continue;
                }
                if (*p == 0)
                        break;
                while (is_tchar(p[kt]))
                        kt++;
                while (is_token68_char(p[k68]))
                        k68++;
                q = skip_ows(p + kt);
                v = *q == '=' ? skip_ows(q + 1) : NULL;

                if (kt > 0 && v && *v && *v != ',' && *v != '=') {
                        /* name=value: a parameter of the current challenge. */
                        if (n == 0) {
                                r = -EBADMSG; /* a parameter before any scheme */
                                goto fail;
                        }
                        after_scheme = false;
                        r = auth_param_parse(&p, kt, v, &l[n - 1]);
                        if (r < 0)
                                goto fail;
                        continue;
                }
                if (after_scheme && k68 > 0) {
                        /* "Basic dXNlcjpwYXNz", "Negotiate abc==": a token68 credential, skipped. */
                        p += k68;
                        while (*p == '=')
                                p++;
                        after_scheme = false;
                        r = expect_separator(&p);
                        if (r < 0)
                                goto fail;
                        continue;
                }
                if (kt == 0 || (p[kt] != 0 && p[kt] != ',' && p[kt] != ' ' && p[kt] != '\t')) {
                        r = -EBADMSG;
                        goto fail;
                }
                /* A new challenge: its scheme. */
                r = auth_challenge_add(&l, &n, p, kt);
                if (r < 0)
                        goto fail;
                p += kt;
                after_scheme = true;
        }
        *ret = l;
        *ret_n = n;
        return 0;
fail:
        auth_challenges_free(l, n);
        return r;
}
