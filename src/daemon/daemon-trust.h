/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <inttypes.h>
#include <systemd/sd-bus.h>

#include "digest.h"
#include "error.h"

/* The trust policy as an ImageVerifyFn for pulls and imports; logs the
 * decision. */
int daemon_image_verify(const char *reference, const Digest *manifest, void *userdata, PeapodError *e);
/* The same for an ACI and its detached signature (an AciVerifyFn). */
int daemon_aci_verify(const char *reference, int fd, const void *sig, size_t sig_size, void *userdata, PeapodError *e);

int bus_method_add_trusted_key(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_method_list_trusted_keys(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_method_remove_trusted_key(sd_bus_message *m, void *userdata, sd_bus_error *error);
