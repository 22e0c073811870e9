/* peer: the local test servers the C unit tests talk to, and the plain
 * HTTP they use to ask those servers what they saw. */
#ifndef LECTERN_PEER_H
#define LECTERN_PEER_H

#include <stddef.h>

#include "core/mem.h"

/* Starts t/llm-peer.py (a chat-completions test server, through
 * /usr/bin/python3 from $LECTERN_SRCDIR) taking the API key key, and writes
 * its base URL ("http://127.0.0.1:PORT/v1") into base. The peer and its
 * temporary directory go at exit. Skips the program when it cannot be
 * started; bails out when it does not listen within 10 s. */
void peer_llm_start(const char *key, char *base, size_t size);

/* A local port where nothing listens. */
int peer_dead_port(void);

/* GET url without signing; the body is appended to body. Returns the HTTP
 * status, 0 when there was no answer. */
long peer_fetch(const char *url, struct buf *body);

#endif
