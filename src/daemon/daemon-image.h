/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* peapodd's image work (daemon-image-core.c), which the bus face
 * (daemon-image.c) calls: -errno with err set where there is more to say;
 * no bus error is made here. */

#include "daemon-job.h"
#include "daemon.h"
#include "image-archive.h"

/* The store of the main thread, opened on first use. */
int daemon_image_store(Daemon *d, Store **ret);

/* Starts a job pulling reference with creds (taken: they go with the
 * job), checked against the trust policy unless flags skip it. */
int daemon_pull_image(Daemon *d, const char *reference, PullCredentials *creds, uint64_t flags, Job **ret,
                      PeapodError *err);
/* Starts a job importing the archive in fd (the caller's: dup'ed) as
 * reference (NULL or "": the names in the archive), with sig (an ACI's
 * detached signature) if sig_size > 0. */
int daemon_import_image(Daemon *d, int fd, const char *reference, const void *sig, size_t sig_size, uint64_t flags,
                        Job **ret, PeapodError *err);
/* Starts a job writing image to fd (dup'ed) as an archive of format. */
int daemon_export_image(Daemon *d, const char *image, int fd, ImageArchiveFormat format, Job **ret,
                        PeapodError *err);
/* Removes the name key (or, given an id, every name of it) and the image
 * once nameless: 0 when done, 1 when a gc answers call later. */
int daemon_image_remove(Daemon *d, const char *key, bool force, sd_bus_message *call, PeapodError *err);
/* Gives the image key the name reference. */
int daemon_image_tag(Daemon *d, const char *key, const char *reference, PeapodError *err);
/* Starts the store's gc for call, which is answered when it is done (with
 * the bytes freed if prune). */
int daemon_image_gc(Daemon *d, sd_bus_message *call, bool prune);
/* While a gc of ours runs, a call that changes names waits: 1, and it is
 * dispatched again once the gc has ended. */
int daemon_image_wait_for_gc(Daemon *d, sd_bus_message *m);
