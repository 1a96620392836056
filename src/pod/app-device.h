/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <systemd/sd-bus.h>

#include "app-spec.h"
#include "error.h"

/* Host devices given to one app: AppDevice (app-spec.h) says why it is
 * safe; the checks of it are here. */

/* HOST[:CONTAINER[:PERMISSIONS]] as docker's --device takes it (CONTAINER
 * defaults to HOST, PERMISSIONS to "rwm"), checked as text by
 * app_device_check(). -EINVAL with err set, -ENOMEM. */
int app_device_from_string(const char *s, AppDevice *ret, PeapodError *err);

/* Checks each (app_device_check(), then stat(): a character or block
 * device, whatever a symlink on the way), that no two share a container
 * path, and copies them. -EINVAL / -E2BIG with err set. */
int app_devices_copy(const AppDevice *in, size_t n, AppDevice **ret, size_t *ret_n, PeapodError *err);

/* pod.json: an array of {host, container, permissions}; "devices" missing
 * (older pods) is none. */
json_object *app_devices_to_json(const AppDevice *d, size_t n);
int app_devices_from_json(json_object *o, AppDevice **ret, size_t *ret_n);

/* Appends --device=HOST:CONTAINER for each (the helper's option). */
int app_devices_argv(const AppDevice *d, size_t n, char ***argv);

/* Appends the unit property DeviceAllow= a(ss): "/dev/char/MAJ:MIN" or
 * "/dev/block/MAJ:MIN" (systemd parses these without the file system)
 * from a stat() of each host node now, with its permissions. Nothing when
 * n is 0. -ENODEV when a node is no longer a device. */
int app_devices_append_allow(sd_bus_message *m, const AppDevice *d, size_t n);
