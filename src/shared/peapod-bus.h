/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The wire contract of org.peapod1: names, paths, interfaces, flag bits and
 * error names, shared by peapodd, the peapod CLI and every other client we
 * ship (the CRI adapter). org.peapod1(5) documents each of them; a published
 * value never changes meaning. This header and peapod-bus.c include nothing
 * of peapod's but each other (the build gives them no other include path). */
#pragma once

#include <stdint.h>

#include <systemd/sd-bus.h>

/* ---- names, objects, interfaces ---- */

#define PEAPOD_BUS_NAME "org.peapod1"
/* The Manager and the object manager of every object below. */
#define PEAPOD_ROOT_PATH "/org/peapod1"
/* Pods at PREFIX/<id>, images at PREFIX/<config digest hex>, jobs at PREFIX/<n>. */
#define PEAPOD_POD_PATH_PREFIX "/org/peapod1/pod"
#define PEAPOD_IMAGE_PATH_PREFIX "/org/peapod1/image"
#define PEAPOD_JOB_PATH_PREFIX "/org/peapod1/job"

#define PEAPOD_MANAGER_INTERFACE "org.peapod1.Manager"
#define PEAPOD_POD_INTERFACE "org.peapod1.Pod"
#define PEAPOD_IMAGE_INTERFACE "org.peapod1.Image"
#define PEAPOD_JOB_INTERFACE "org.peapod1.Job"

/* ---- flag bits of the methods' t flags; any other bit is InvalidArgs ---- */

/* Manager.RemovePod, Pod.Remove: stop a running pod first. */
#define PEAPOD_REMOVE_POD_FORCE UINT64_C(1)
/* Pod.AddApp: start the app at once (running pods only). */
#define PEAPOD_ADD_APP_START UINT64_C(1)
/* Pod.RemoveApp: stop a running app first. */
#define PEAPOD_REMOVE_APP_FORCE UINT64_C(1)
/* Pod.Exec: stdin is a pty the caller made for the command, which becomes
 * its controlling terminal. */
#define PEAPOD_EXEC_TTY UINT64_C(1)
/* Manager.StartPodWithStdin: the fd is a socket over which the first app's
 * helper sends back the master of a pty it made inside the pod (peapod run -t). */
#define PEAPOD_START_POD_TTY UINT64_C(1)
/* Manager.PullImage, PullImageWithAuth, ImportImage, ImportImageWithSignature: accept the image
 * whatever the trust policy says, for this one call (--insecure-options=image);
 * peapodd logs every use. */
#define PEAPOD_IMAGE_INSECURE_SKIP_VERIFY UINT64_C(1)
/* Manager.RemoveImage: remove the names of an image that pods use. */
#define PEAPOD_REMOVE_IMAGE_FORCE UINT64_C(1)
/* Manager.AddTrustedKey: a root key, trusted for every image (empty prefix). */
#define PEAPOD_TRUST_KEY_ROOT UINT64_C(1)

/* ---- polkit actions (dbus/org.peapod1.policy): what a mutating call needs ---- */

/* CreatePod, StartPod, StopPod, RemovePod, GarbageCollect; Pod.Start, Stop,
 * Remove, AddApp, StartApp, StopApp, RemoveApp, Kill, SetAppResources. */
#define PEAPOD_ACTION_MANAGE_PODS "org.peapod1.manage-pods"
/* PullImage, PullImageWithAuth, RemoveImage, TagImage, ImportImage, ImportImageWithSignature,
 * ExportImage, PruneImages; Job.Cancel. */
#define PEAPOD_ACTION_MANAGE_IMAGES "org.peapod1.manage-images"
/* AddTrustedKey, RemoveTrustedKey. */
#define PEAPOD_ACTION_MANAGE_TRUST "org.peapod1.manage-trust"
/* Pod.Exec, KillExec. */
#define PEAPOD_ACTION_ENTER_PODS "org.peapod1.enter-pods"
/* Besides manage-pods or enter-pods: CreatePod and AddApp with a
 * privileged app (app property Privileged), Exec and AttachApp into one. */
#define PEAPOD_ACTION_RUN_PRIVILEGED "org.peapod1.run-privileged"

/* ---- errors (besides org.freedesktop.DBus.Error.InvalidArgs and AccessDenied) ---- */

#define BUS_ERROR_NO_SUCH_POD "org.peapod1.Error.NoSuchPod"
#define BUS_ERROR_POD_EXISTS "org.peapod1.Error.PodExists"
#define BUS_ERROR_INVALID_NAME "org.peapod1.Error.InvalidName"
#define BUS_ERROR_POD_RUNNING "org.peapod1.Error.PodRunning"
/* Reserved: no call of this version fails with it (a call that needs a
 * running pod fails with BadState). */
#define BUS_ERROR_POD_NOT_RUNNING "org.peapod1.Error.PodNotRunning"
/* The state of the pod or app does not allow the call. */
#define BUS_ERROR_BAD_STATE "org.peapod1.Error.BadState"
/* A host port that another pod publishes or a host program has bound. */
#define BUS_ERROR_PORT_IN_USE "org.peapod1.Error.PortInUse"
#define BUS_ERROR_NO_SUCH_APP "org.peapod1.Error.NoSuchApp"
#define BUS_ERROR_APP_EXISTS "org.peapod1.Error.AppExists"
#define BUS_ERROR_APP_RUNNING "org.peapod1.Error.AppRunning"
/* Also an ambiguous image id prefix. */
#define BUS_ERROR_NO_SUCH_IMAGE "org.peapod1.Error.NoSuchImage"
#define BUS_ERROR_IMAGE_IN_USE "org.peapod1.Error.ImageInUse"
#define BUS_ERROR_NO_SUCH_KEY "org.peapod1.Error.NoSuchKey"

/* Every error name above with its errno, in both directions: a client that
 * registers it (peapod_bus_error_map_add()) gets -errno from sd_bus_call()
 * and sd_bus_error_get_errno(), and peapodd names a -errno of its core with
 * it (bus_error_from_errno(), among the names a call of its scope can fail
 * with). A name may appear twice; the first pair is the errno a client
 * sees. Within a scope no two names share an errno: EBUSY is PodRunning,
 * AppRunning or ImageInUse by the call's scope, ENXIO NoSuchPod or
 * NoSuchApp, and BadState has EALREADY, which no other name has, so that
 * the core says "not in a state that allows this" the same way for pods
 * and apps. */
extern const sd_bus_error_map peapod_bus_error_map[];

/* sd_bus_error_add_map() of the table above, once per process. */
int peapod_bus_error_map_add(void);

/* What an error of ours means, in a few words ("No such pod"), for an error
 * that came without a message; NULL for names not in the table. */
const char *peapod_bus_error_text(const char *name);
