/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <syslog.h>
#include <unistd.h>
#include <systemd/sd-journal.h>

#include "fs-util.h"
#include "log.h"
#include "macro.h"
#include "stage1-journal.h"

int stage1_open_journal_streams(const char *app_id, int *ret_out, int *ret_err) {
        _cleanup_close_ int out = -EBADF, err = -EBADF;

        out = sd_journal_stream_fd(app_id, LOG_INFO, 0);
        if (out >= 0)
                err = sd_journal_stream_fd(app_id, LOG_ERR, 0);
        if (out < 0 || err < 0) {
                log_warning_errno(out < 0 ? out : err, "Failed to connect to journald, app logs go to our stdout/stderr: %m");
                out = safe_close(out);
                /* Copies above 2, so that dup2() onto 1 and 2 later cannot
                 * clobber one stream with the other. */
                out = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
                if (out < 0)
                        return log_error_errno(errno, "Failed to duplicate stdout: %m");
                err = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
                if (err < 0)
                        return log_error_errno(errno, "Failed to duplicate stderr: %m");
        }

        *ret_out = TAKE_FD(out);
        *ret_err = TAKE_FD(err);
        return 0;
}
