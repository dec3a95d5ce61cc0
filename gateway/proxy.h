/*
 * proxy: the client side of the data path. One struct proxy_conn per
 * accepted connection: TLS (Https frontends), the request head, routing,
 * member choice, the upstream exchange (upstream.h), streaming both ways
 * with back-pressure, gateway-made pages, keep-alive and pipelining, and
 * one close path (proxy_close) with a reason.
 */
#ifndef AGW_PROXY_H
#define AGW_PROXY_H

#include <sys/socket.h>

#include <openssl/ssl.h>

struct worker;

/* Take over an accepted socket that arrived on gateway port `port`.
 * The socket is closed when it cannot be set up. */
void proxy_accept(struct worker *w, int fd, const struct sockaddr *sa,
    int socklen, int port);
/* Shutdown: close every connection of the worker that is between
 * requests; the others close after their response. */
void proxy_close_idle(struct worker *w);
/* Close every connection of the worker now (shutdown deadline). */
void proxy_close_all(struct worker *w);
/* The servername callback of every frontend SSL_CTX (worker.c installs
 * it): picks the listener's certificate by SNI and enforces
 * requireServerNameIndication. */
int proxy_sni_cb(SSL *ssl, int *alert, void *arg);

#endif
