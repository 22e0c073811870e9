/* fdio: writing a whole buffer to a file descriptor, the way the workers'
 * temporary copies and the sandboxed children's pipes are written. */
#ifndef LECTERN_FDIO_H
#define LECTERN_FDIO_H

#include <stdbool.h>
#include <stddef.h>

/* Writes all len bytes of data to fd, again after EINTR and short writes;
 * false (errno set by write) when a write fails or writes nothing. */
bool fd_write_all(int fd, const void *data, size_t len);

#endif
