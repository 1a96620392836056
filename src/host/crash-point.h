/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A debug hook for testing crash recovery: when the environment variable
 * PEAPOD_DEBUG_CRASH_AT names step, the process kills itself with SIGKILL
 * right there, as a crash would. Steps are listed in docs/DESIGN.md ("On
 * disk"). Costs one getenv() per step otherwise. Every crash point is a
 * trace point too. */
void crash_point(const char *step);

/* A debug hook for measuring: when the environment variable
 * PEAPOD_DEBUG_TIMING is set (to anything but "0"), logs "timing STEP
 * USEC" at info level, USEC being CLOCK_MONOTONIC, which every process on
 * the machine shares, so that the steps of peapodd and of the CLI can be
 * merged into one timeline (bench/start/trace). Costs one getenv() at the
 * first step otherwise. */
void trace_point(const char *step);
