/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A debug hook for testing crash recovery: when the environment variable
 * PEAPOD_DEBUG_CRASH_AT names step, the process kills itself with SIGKILL
 * right there, as a crash would. Steps are listed in docs/DESIGN.md ("On
 * disk"). Costs one getenv() per step otherwise. */
void crash_point(const char *step);
