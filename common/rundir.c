/*  rundir: <data_dir>/run, the node's private directory of ipc sockets. */
#include "rundir.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>

static int
s_mkdir_mode (const char *path, mode_t mode, int force_mode)
{
    if (mkdir (path, mode) == 0)
        return 0;
    if (errno != EEXIST)
        return -1;
    struct stat st;
    if (stat (path, &st) != 0)
        return -1;
    if (!S_ISDIR (st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    if (force_mode && (st.st_mode & 07777) != mode)
        return chmod (path, mode);
    return 0;
}

int
rundir_prepare (const char *data_dir)
{
    if (!data_dir || !*data_dir) {
        errno = EINVAL;
        return -1;
    }
    if (s_mkdir_mode (data_dir, 0700, 0) != 0)
        return -1;
    char path[512];
    if (snprintf (path, sizeof path, "%s/run", data_dir) >= (int) sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return s_mkdir_mode (path, 0700, 1);
}

int
rundir_endpoint (const char *data_dir, const char *daemon, const char *kind,
                 char *buf, size_t size)
{
    struct sockaddr_un addr;
    int len = snprintf (buf, size, "ipc://%s/run/%s.%s", data_dir, daemon, kind);
    if (len < 0 || (size_t) len >= size)
        return -1;
    //  The path after "ipc://" must fit sun_path with its terminating NUL.
    if ((size_t) len - 6 >= sizeof addr.sun_path)
        return -1;
    return 0;
}
