/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>

#include "aci.h"
#include "fuzz.h"
#include "strv.h"

/* An ACI's manifest is read before its signature says anything about it. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(aci_manifest_freep) AciManifest *m = NULL;
        _cleanup_free_ char *ref = NULL;
        PeapodError e;

        if (aci_manifest_parse(data, size, &m, &e) < 0)
                return 0;
        if (!m->name || strv_length(m->exec) > ACI_EXEC_MAX || strv_length(m->env) > ACI_ENV_MAX)
                abort();
        if (m->working_dir && m->working_dir[0] != '/')
                abort();
        (void) aci_manifest_reference(m, &ref, &e);
        return 0;
}
