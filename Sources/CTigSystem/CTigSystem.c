#define _GNU_SOURCE
#include "CTigSystem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int tig_open_unnamed(int dirfd) {
    return openat(dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
}

/// Whether linkat(AT_EMPTY_PATH) works for this process: since Linux 6.10
/// any process may link an O_TMPFILE file it opened; before, it needs
/// CAP_DAC_READ_SEARCH. The /proc path works everywhere but costs a path
/// lookup through procfs on every block written.
static _Atomic int empty_path_refused = 0;

int tig_link_unnamed(int fd, int dirfd, const char *name) {
    if (!empty_path_refused) {
        int result = linkat(fd, "", dirfd, name, AT_EMPTY_PATH);
        if (result == 0 || (errno != ENOENT && errno != EPERM)) return result;
        empty_path_refused = 1;
    }
    char path[40];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    return linkat(AT_FDCWD, path, dirfd, name, AT_SYMLINK_FOLLOW);
}

int tig_open_read(int dirfd, const char *name) {
    return openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
}

int tig_open_append(int dirfd, const char *name) {
    return openat(dirfd, name, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
}

int tig_open_directory(const char *path) {
    return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

int tig_stat_at(int dirfd, const char *name, struct stat *st) {
    return fstatat(dirfd, name, st, AT_SYMLINK_NOFOLLOW);
}
