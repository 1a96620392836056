/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>

#include "fuzz.h"
#include "reference.h"
#include "strv.h"

/* registries.conf and the auth file are root's, but they are JSON that
 * tools and people write, and every pull reads them: whatever they hold,
 * the parsers refuse or give back entries that the lookups can use. The
 * same input goes to both parsers and to the base64 decoder of "auth". */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(registries_conf_freep) RegistriesConf *c = NULL;
        _cleanup_(auth_file_freep) AuthFile *a = NULL;
        _cleanup_free_ char *s = NULL, *decoded = NULL;
        PeapodError e = {};
        size_t n;

        if (size > 64 * 1024)
                return 0;
        s = fuzz_string(data, size);
        if (!s)
                return 0;

        if (registries_conf_parse(s, &c, &e) >= 0) {
                _cleanup_(image_reference_freep) ImageReference *r = NULL;

                for (size_t i = 0; i < c->n_entries; i++) {
                        const RegistryEntry *x = c->entries + i;
                        const char *slash = strchrnul(x->prefix, '/');
                        _cleanup_free_ char *reg = strndup(x->prefix, (size_t) (slash - x->prefix));

                        if (!reg)
                                return 0;
                        /* An entry's own prefix finds an entry (itself or a longer one). */
                        if (!registry_prefix_is_valid(x->prefix) || !registries_conf_find(c, reg, *slash ? slash + 1 : "x"))
                                abort();
                        (void) registries_conf_is_insecure(c, reg, "a/b");
                        (void) registries_conf_lookaside(c, reg, "a/b");
                }
                if (image_reference_parse("busybox", &r) >= 0) {
                        int k = image_reference_resolve(r, c, &e);

                        if (k >= 0 && !r->registry)
                                abort();
                        peapod_error_clear(&e);
                }
        }
        peapod_error_clear(&e);

        if (auth_file_parse(s, &a, &e) >= 0)
                for (size_t i = 0; i < a->n_entries; i++)
                        if (!auth_file_find(a, a->entries[i].registry) || !a->entries[i].username ||
                            !a->entries[i].password)
                                abort();
        peapod_error_clear(&e);

        if (base64_decode(s, &decoded, &n) >= 0 && n > size)
                abort();
        return 0;
}
