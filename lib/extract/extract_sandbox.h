/* extract_sandbox: what the parser child may do, and a probe that shows it.
 *
 * lectern-extract confines itself once its libraries are loaded and before
 * it reads a byte of the document: when started as root it becomes
 * "nobody" (no supplementary groups), RLIMIT_NPROC is 0, and a seccomp
 * filter allows only what reading files and writing the answer needs:
 * read-only opens, reads, memory, time, futexes, signals to itself, and
 * writes to the answer pipe and stderr. Sockets, forks, threads, exec,
 * opening for writing, renames, unlinks and every other call fail with
 * EPERM. The rlimits, no-new-privileges, the closed descriptors and the
 * wall-clock kill of extract_file come on top. */
#ifndef LECTERN_EXTRACT_SANDBOX_H
#define LECTERN_EXTRACT_SANDBOX_H

#include "extract/extract.h"

/* Confines the calling process for good, as lectern-extract confines
 * itself: "nobody" when root, RLIMIT_NPROC 0, and the seccomp filter above
 * (writes only to descriptor 3 and stderr). For other engines' children
 * (lib/speech): call it after fork, with the answer pipe on descriptor 3,
 * once the engine's files are open. False when it could not (the caller
 * must then exit). */
bool extract_sandbox_confine(void);

/* A file the probe tries to create; it must never exist afterwards. */
#define EXTRACT_PROBE_FILE "/tmp/lectern-extract-sandbox-probe"

/* Runs lectern-extract in its sandbox as a document would be, but instead
 * of parsing it tries what a hostile parser would: out->text is one
 * "name=denied" or "name=ALLOWED" line per attempt (socket_inet,
 * socket_unix, open_write, open_rdwr, fork, thread, exec, kill_parent),
 * then "uid=N" and "nproc=N". Same errors as extract_file. */
enum err extract_sandbox_probe(const struct extract_limits *limits, struct pool *pool,
                               struct extract_result *out) MUST_CHECK;

#endif
