/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <systemd/sd-bus.h>

#include "error.h"

/* A host device given to one app (the CRI's devices, `peapod run
 * --device=`). Safe because of two things together (docs/DESIGN.md,
 * "Devices"): the app unit's device cgroup, DevicePolicy=closed plus
 * DeviceAllow= for exactly this node's type and major:minor with exactly
 * these permissions, and the helper binding this one node (checked to be a
 * device) into the app's nodev /dev as a mount of its own. */
typedef struct AppDevice {
        char *host;         /* the host's node */
        char *container;    /* below /dev inside the app */
        char *permissions;  /* some of "rwm": the device cgroup's access */
} AppDevice;

#define APP_DEVICES_MAX 64

void app_device_done(AppDevice *d);
void app_devices_free(AppDevice *d, size_t n);

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
