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
/* ExecStartEx (a(sasas)) with one command: path, argv (argv[0] first) and
 * flags such as "no-env-expand". */
int bus_append_exec_start_ex(sd_bus_message *m, const char *path, char * const *argv, char * const *flags);
