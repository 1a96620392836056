/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Runs fn(userdata) in a detached thread of its own, for work an event
 * loop must not wait for: 0, or -errno when no thread could be made (then
 * fn has not run, and userdata is still the caller's). */
int thread_run_detached(void *(*fn)(void *), void *userdata);
