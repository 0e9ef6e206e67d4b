/* run_start.h — who a run is and which providers it can use, settled
 * before it opens the queue for sending: its owner name, whether another
 * run's owner still runs, and the providers' keys from the environment.
 * Main thread only. */
#ifndef NIGHTSHIFT_RUN_START_H
#define NIGHTSHIFT_RUN_START_H

#include "runner/config.h"

/* Room for the host name and the run's owner name ("host:pid:run"). */
#define HOST_MAX 256
#define OWNER_MAX 400

/* run_names: this host's name into host[HOST_MAX] and the run's owner
 * name ("host:pid:run") into owner[OWNER_MAX]. */
void run_names(char *host, char *owner);
/* owner_alive: whether the run that owns a lease or an intent ("host:pid:
 * run") still runs; arg is this host's name. On this host the kernel
 * says; elsewhere we cannot tell and say yes (its lease expires). */
int owner_alive(const char *owner, void *arg);
/* read_keys: every provider's key from the environment into *out (see
 * key_get_all), saying once which providers are skipped for want of one.
 * EXIT_USAGE, saying why, when a key is unusable or no provider has one;
 * else 0. */
int read_keys(const struct config *cfg, char ***out);

#endif
