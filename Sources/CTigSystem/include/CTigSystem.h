#ifndef C_TIG_SYSTEM_H
#define C_TIG_SYSTEM_H

// Linux calls that Swift cannot reach directly: O_TMPFILE is a compound macro
// that needs _GNU_SOURCE, and linking an unnamed file goes through its
// /proc/self/fd path. The definitions live in CTigSystem.c, compiled with
// _GNU_SOURCE, so Swift's view of the system headers stays the default one.

#include <sys/stat.h>

/// Opens an unnamed regular file in the directory `dirfd` (O_TMPFILE). It has
/// no name until `tig_link_unnamed` gives it one, so a crash before that
/// leaves nothing behind.
int tig_open_unnamed(int dirfd);

/// Gives the unnamed file `fd` the name `name` in `dirfd`. Fails with EEXIST
/// when the name is taken, which makes it an atomic exclusive create.
int tig_link_unnamed(int fd, int dirfd, const char *name);

/// Opens a block for reading; never follows a symbolic link, and never
/// blocks (a FIFO planted under a block name opens at once, and is then
/// refused for not being a regular file).
int tig_open_read(int dirfd, const char *name);

/// Opens a key slot for appending; never follows a symbolic link, never blocks.
int tig_open_append(int dirfd, const char *name);

int tig_open_directory(const char *path);

/// lstat relative to a directory.
int tig_stat_at(int dirfd, const char *name, struct stat *st);

#endif
