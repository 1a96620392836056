/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The names of peapodd's bus API that peapod-cri calls.
 * TODO: replace with src/shared/peapod-bus.h when it lands (the one wire
 * contract that peapodd, the CLI and peapod-cri share); the names here are
 * spelled as there, so only the #include changes. */

#define PEAPOD_BUS_NAME "org.peapod1"
#define PEAPOD_ROOT_PATH "/org/peapod1"
#define PEAPOD_MANAGER_INTERFACE "org.peapod1.Manager"
#define PEAPOD_IMAGE_INTERFACE "org.peapod1.Image"
#define BUS_ERROR_NO_SUCH_IMAGE "org.peapod1.Error.NoSuchImage"
