/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The example registries.conf we install parses, and says what its
 * comments say (peapod-registries.conf(5)). */
#include <stdlib.h>

#include "fs-util.h"
#include "reference.h"
#include "string-util.h"
#include "tests.h"

int main(int argc, char *argv[]) {
        _cleanup_(registries_conf_freep) RegistriesConf *c = NULL;
        _cleanup_free_ char *text = NULL;
        PeapodError e = {};
        int r;

        ASSERT_TRUE(argc == 2);
        ASSERT_OK(read_file(argv[1], REGISTRIES_CONF_MAX, &text, NULL));
        r = registries_conf_parse(text, &c, &e);
        if (r < 0)
                fprintf(stderr, "%s: %s\n", argv[1], e.message);
        ASSERT_OK(r);
        ASSERT_STREQ(c->unqualified_search_registries[0], "docker.io");
        ASSERT_STREQ(registries_conf_auth_file(c), PEAPOD_CONF_DIR "/auth.json");
        ASSERT_STREQ(registries_conf_find(c, "docker.io", "library/busybox")->mirrors[0], "mirror.example.com");
        ASSERT_TRUE(registries_conf_is_insecure(c, "registry.example.com:5000", "x"));
        ASSERT_FALSE(registries_conf_is_insecure(c, "registry.example.com", "x"));
        ASSERT_STREQ(registries_conf_lookaside(c, "registry.example.com:5000", "signed/app"), "file:///var/lib/peapod/sigstore");
        ASSERT_TRUE(registries_conf_lookaside(c, "registry.example.com:5000", "other") == NULL);
        return 0;
}
