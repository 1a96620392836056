/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "valid-util.h"

#define POD_NAME_MAX HOSTNAME_MAX
#define APP_NAME_MAX 63
#define POD_ID_LEN 32

/* A pod name is used as the machine name, so it follows machined's rule:
 * [A-Za-z0-9.-], 1..64, no leading '-' or '.', no "..". */
bool pod_name_is_valid(const char *name);
/* App names end up in unit names and, later, as Kubernetes container names:
 * a DNS label [a-z0-9-], 1..63, starting with a letter or digit. */
bool app_name_is_valid(const char *name);
/* 32 lower-case hex digits. */
bool id_is_valid(const char *id);
/* A possible unique prefix of an id: 4..32 lower-case hex digits. */
bool id_prefix_is_valid(const char *s);
/* 1 to 3 hex digits: what looks like an id prefix too short to be one. */
#define POD_ID_PREFIX_MIN 4
bool id_prefix_is_too_short(const char *s);

/* A fresh random 128-bit id as 32 hex digits (buffer of 33). */
int id_generate(char ret[static POD_ID_LEN + 1]);

/* Unit names: "-" is the hierarchy separator of slices, so the machine
 * name's dashes are escaped as \x2d, as systemd-machined does. */
int unit_name_escape_dashes(const char *s, char **ret);
/* The pod's slice. With shard (a hex digit: the first of the pod's id),
 * machine-peapod<shard>-<machine>.slice, in machine-peapod<shard>.slice:
 * at most 16 members of machine.slice however many pods run. PID 1
 * walks every member of each ancestor slice of a unit it starts (to find
 * which need their cgroup controllers changed), so with every pod's slice
 * directly in machine.slice a start paid a walk of all pods. shard 0:
 * machine-<machine>.slice, where pods of an older peapod run. */
int pod_slice_name(const char *machine, char shard, char **ret);
int pod_scope_name(const char *machine, char **ret);
int app_unit_name(const char *machine, const char *app, char **ret);
/* The inverse of pod_scope_name() and app_unit_name(): the machine name of
 * a pod's scope (*ret_app NULL) or of an app's service (*ret_app the app's
 * name, a pointer into unit). -EINVAL for any other unit. */
int unit_name_parse(const char *unit, char **ret_machine, const char **ret_app);

/* The app name used when none is given: the last path component of the
 * image reference without tag or digest, made into a valid app name. */
int app_name_from_image(const char *image, char **ret);
