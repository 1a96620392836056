/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include <systemd/sd-bus.h>

/* Append a (sv) pair to an open a(sv) container: the property lists of
 * systemd's StartTransientUnit and of our own CreatePod. */
int bus_append_property_s(sd_bus_message *m, const char *name, const char *value);
int bus_append_property_b(sd_bus_message *m, const char *name, int value);
int bus_append_property_t(sd_bus_message *m, const char *name, uint64_t value);
int bus_append_property_as(sd_bus_message *m, const char *name, char * const *l);
/* The same for n counted strings (protoc-c's repeated fields are not
 * NULL-terminated). */
int bus_append_property_strn(sd_bus_message *m, const char *name, char * const *l, size_t n);
/* A (sv) pair whose value is an array of element ("(ss)", "s", ...):
 * opens the struct, the variant and the array, for the caller to append
 * the elements; bus_close_array_property() closes the three. */
int bus_open_array_property(sd_bus_message *m, const char *name, const char *element);
int bus_close_array_property(sd_bus_message *m);
/* ExecStart (a(sasb)) with one command: path and argv (argv[0] first),
 * failure not ignored. Only for arguments that systemd reads back the same
 * after daemon-reload: no "$" (expanded at exec), nothing a unit file would
 * unquote differently; the stage1 helpers get theirs in a file. */
int bus_append_exec_start(sd_bus_message *m, const char *path, char * const *argv);
