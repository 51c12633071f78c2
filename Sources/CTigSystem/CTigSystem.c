#define _GNU_SOURCE
#include "CTigSystem.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int tig_open_unnamed(int dirfd) {
    return openat(dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
}

int tig_link_unnamed(int fd, int dirfd, const char *name) {
    char path[40];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    return linkat(AT_FDCWD, path, dirfd, name, AT_SYMLINK_FOLLOW);
}

int tig_open_read(int dirfd, const char *name) {
    return openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
}

int tig_open_append(int dirfd, const char *name) {
    return openat(dirfd, name, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
}

int tig_open_directory(const char *path) {
    return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

int tig_stat_at(int dirfd, const char *name, struct stat *st) {
    return fstatat(dirfd, name, st, AT_SYMLINK_NOFOLLOW);
}
