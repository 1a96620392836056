/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A D-Bus endpoint in the pod's infra root that refuses everything with a
 * message, so that `machinectl shell` and `login` tell the user what to
 * use instead of failing with a bare errno. machined starts a shell by
 * calling StartTransientUnit (a getty by StartUnit) on the bus it finds at
 * /run/dbus/system_bus_socket under the machine leader's root; a pod has
 * no systemd of its own to do that, and a shell in the infra root would be
 * in no app's root anyway. Only root on the host reaches that socket (apps
 * have mount namespaces of their own; /proc/<leader>/root needs ptrace
 * rights over PID 1), but what comes over it is still parsed with bounds:
 * it is PID 1 that reads it. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STAGE1_BUS_SOCKET "/run/dbus/system_bus_socket"
#define STAGE1_BUS_MESSAGE_MAX (256U * 1024U)

/* What matters of one message: its type, flags, serial and member. */
typedef struct Stage1BusMessage {
        uint8_t type;        /* 1 method call, 2 return, 3 error, 4 signal */
        uint8_t flags;       /* 0x1: no reply expected */
        uint32_t serial;
        const char *member;  /* points into the buffer; NULL when absent */
        size_t member_len;
        size_t size;         /* the whole message */
} Stage1BusMessage;

/* Parses the message at the start of buf: 1 and ret filled when a whole
 * message is there, 0 when more bytes are needed, -EBADMSG when it is none
 * (or bigger than STAGE1_BUS_MESSAGE_MAX, or big-endian: sd-bus on this
 * machine writes little-endian). */
int stage1_bus_message_parse(const uint8_t *buf, size_t n, Stage1BusMessage *ret);

/* A METHOD_RETURN of Hello (body: our peer's unique name) or an ERROR with
 * error_name and message, replying to serial; written into buf (size
 * bytes). Returns the length, or -ENOBUFS. */
int stage1_bus_build_hello_reply(uint32_t serial, uint32_t reply_serial, uint8_t *buf, size_t size);
int stage1_bus_build_error(uint32_t serial, uint32_t reply_serial, const char *error_name, const char *message,
                           uint8_t *buf, size_t size);

/* Serve one connected peer: the SASL exchange sd-bus clients do (AUTH
 * EXTERNAL, NEGOTIATE_UNIX_FD, BEGIN), then answer Hello, and every other
 * method call with error_name/message, until the peer hangs up, misbehaves
 * or timeout_usec passes. File descriptors sent along are closed. A peer
 * of another uid than ours (root, in PID 1) is refused (-EPERM). */
int stage1_bus_serve(int fd, const char *error_name, const char *message, uint64_t timeout_usec);
