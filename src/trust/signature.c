/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "digest.h"
#include "json-util.h"
#include "reference.h"
#include "signature.h"

SimpleSignature *simple_signature_free(SimpleSignature *s) {
        if (!s)
                return NULL;
        free(s->docker_reference);
        free(s->manifest_digest);
        free(s);
        return NULL;
}

static json_object *json_get_object(json_object *o, const char *key) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_object))
                return NULL;
        return v;
}

int simple_signature_parse(const void *data, size_t size, SimpleSignature **ret, PeapodError *e) {
        _cleanup_(simple_signature_freep) SimpleSignature *s = NULL;
        _cleanup_json_ json_object *root = NULL;
        json_object *critical, *image, *identity;
        const char *type, *digest, *reference;
        char where[JSON_PARSE_ERROR_STRING_MAX];
        JsonParseError pe;
        int r;

        r = json_parse_untrusted(data, size, SIMPLE_SIGNATURE_SIZE_MAX, SIMPLE_SIGNATURE_DEPTH_MAX, &root, &pe);
        if (r == -E2BIG)
                return peapod_error_set(e, r, "Signature payload is larger than %d bytes", SIMPLE_SIGNATURE_SIZE_MAX);
        if (r == -EBADMSG)
                return peapod_error_set(e, r, "Signature payload is not a JSON object (%s)",
                                        json_parse_error_to_string(&pe, where, sizeof(where)));
        if (r < 0)
                return r;
        if (!json_object_is_type(root, json_type_object))
                return peapod_error_set(e, -EBADMSG, "Signature payload is not a JSON object");

        critical = json_get_object(root, "critical");
        if (!critical)
                return peapod_error_set(e, -EBADMSG, "Signature payload has no \"critical\" object");
        if (json_get_string(critical, "type", &type) < 0 || !streq(type, SIMPLE_SIGNATURE_TYPE))
                return peapod_error_set(e, -EBADMSG, "Signature payload is not an \"" SIMPLE_SIGNATURE_TYPE "\"");
        image = json_get_object(critical, "image");
        identity = json_get_object(critical, "identity");
        if (!image || json_get_string(image, "docker-manifest-digest", &digest) < 0)
                return peapod_error_set(e, -EBADMSG, "Signature payload has no critical.image.docker-manifest-digest");
        if (!identity || json_get_string(identity, "docker-reference", &reference) < 0)
                return peapod_error_set(e, -EBADMSG, "Signature payload has no critical.identity.docker-reference");
        if (!digest_is_valid_string(digest))
                return peapod_error_set(e, -EBADMSG, "Signature payload names an invalid digest");
        if (strlen(reference) > 1024)
                return peapod_error_set(e, -EBADMSG, "Signature payload names an overlong reference");
        /* "critical" means: a key we do not understand makes the whole
         * signature invalid (the format's own rule). */
        json_object_object_foreach(critical, k, v) {
                (void) v;
                if (!streq(k, "type") && !streq(k, "image") && !streq(k, "identity"))
                        return peapod_error_set(e, -EBADMSG, "Signature payload has unknown critical key \"%.64s\"", k);
        }

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->docker_reference = strdup(reference);
        s->manifest_digest = strdup(digest);
        if (!s->docker_reference || !s->manifest_digest)
                return -ENOMEM;
        *ret = TAKE_PTR(s);
        return 0;
}

int simple_signature_format(const char *reference, const char *manifest_digest, char **ret) {
        _cleanup_json_ json_object *root = json_object_new_object();
        json_object *critical = json_object_new_object(), *image = json_object_new_object(),
                    *identity = json_object_new_object(), *optional = json_object_new_object();
        char *s;

        if (!root || !critical || !image || !identity || !optional) {
                json_object_put(critical);
                json_object_put(image);
                json_object_put(identity);
                json_object_put(optional);
                return -ENOMEM;
        }
        json_object_object_add(root, "critical", critical);
        json_object_object_add(root, "optional", optional);
        json_object_object_add(critical, "type", json_object_new_string(SIMPLE_SIGNATURE_TYPE));
        json_object_object_add(critical, "image", image);
        json_object_object_add(critical, "identity", identity);
        json_object_object_add(image, "docker-manifest-digest", json_object_new_string(manifest_digest));
        json_object_object_add(identity, "docker-reference", json_object_new_string(reference));
        json_object_object_add(optional, "creator", json_object_new_string("peapod " PACKAGE_VERSION));
        json_object_object_add(optional, "timestamp", json_object_new_int64((int64_t) time(NULL)));
        s = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}
