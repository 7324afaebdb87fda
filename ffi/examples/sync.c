/* Minimal C consumer of dash-qrsync: syncs a node given as IP:PORT (mainnet/testnet chosen by
 * the second argument), or, when built with -DDQS_SIMNET against a library built with the
 * `simnet` feature and run without arguments, the built-in simulated network. Prints progress,
 * each quorum, and exits 0 once synced (with the simulated network: and once its ChainLock of
 * the tip and its newest InstantSend lock verify as valid).
 *
 *   cc -std=c11 -DDQS_SIMNET -Iinclude ffi/examples/sync.c target/release/libdash_qrsync.a \
 *      -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc -o sync && ./sync
 */
#define _POSIX_C_SOURCE 200809L
#include "dash_qrsync.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Set by the library's event thread, read by main: a C11 atomic, not a volatile int. */
static atomic_bool synced = false;
static int locks_ok = 1; /* simulator locks verified as valid (DQS_SIMNET) */

/* Prints the library's message for the last failed call on this thread and returns 2. */
static int fail(const char *what) {
  char msg[512];
  dqs_last_error_message(msg, sizeof msg);
  fprintf(stderr, "%s failed: %s\n", what, msg);
  return 2;
}

static void on_progress(void *ud, const dqs_progress *p) {
  (void)ud;
  printf("\rheaders %u/%u  lists %u held, %u missing  quorums %u  %5.1f%%   ", p->header_height,
         p->target_height, p->lists_held, p->lists_missing, p->quorums_validated, p->percent);
  fflush(stdout);
}

static void on_quorum(void *ud, const dqs_quorum *q) {
  (void)ud;
  printf("\rquorum type %3u index %2d at height %u available\n", q->llmq_type, q->index, q->height);
}

static void on_state(void *ud, dqs_state s) {
  (void)ud;
  if (s == DQS_STATE_SYNCED) atomic_store(&synced, true);
}

static void on_error(void *ud, const dqs_error *e) {
  (void)ud;
  fprintf(stderr, "\nerror (%s): %s\n", e->recoverable ? "recovering" : "fatal", e->message);
}

int main(int argc, char **argv) {
  char addr[64] = {0};
  uint32_t network = DQS_NETWORK_MAINNET;
#ifdef DQS_SIMNET
  dqs_simnet *net = NULL;
#endif
  if (argc > 1) {
    snprintf(addr, sizeof addr, "%s", argv[1]);
    if (argc > 2 && strcmp(argv[2], "testnet") == 0) network = DQS_NETWORK_TESTNET;
  } else {
#ifdef DQS_SIMNET
    uint16_t port = 0;
    if (dqs_simnet_start(1, &net, &port) != DQS_RESULT_OK) return fail("dqs_simnet_start");
    snprintf(addr, sizeof addr, "127.0.0.1:%u", (unsigned)port);
    network = DQS_NETWORK_REGTEST;
#else
    fprintf(stderr, "usage: %s IP:PORT [mainnet|testnet]\n", argv[0]);
    return 2;
#endif
  }
  dqs_config *cfg = NULL;
  if (dqs_config_new(network, &cfg) != DQS_RESULT_OK) return fail("dqs_config_new");
  if (dqs_config_add_peer(cfg, addr) != DQS_RESULT_OK) return fail("dqs_config_add_peer");
  dqs_callbacks cb;
  memset(&cb, 0, sizeof cb);
  cb.struct_size = sizeof cb;
  cb.on_progress = on_progress;
  cb.on_quorum = on_quorum;
  cb.on_state = on_state;
  cb.on_error = on_error;
  dqs_client *client = NULL;
  if (dqs_client_new(cfg, NULL, &cb, &client) != DQS_RESULT_OK) return fail("dqs_client_new");
  if (dqs_client_start(client) != DQS_RESULT_OK) {
    int rc = fail("dqs_client_start");
    dqs_client_free(client);
    dqs_config_free(cfg);
    return rc;
  }
  for (int i = 0; i < 1200 && !atomic_load(&synced); i++) {
    struct timespec ts = {0, 100 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  bool is_synced = atomic_load(&synced);
  dqs_status st;
  memset(&st, 0, sizeof st);
  if (dqs_client_status(client, &st) != DQS_RESULT_OK) {
    fail("dqs_client_status");
    is_synced = false;
  }
  printf("\n%s: header height %u, %u quorums validated, %llu bytes in\n",
         is_synced ? "synced" : "NOT synced", st.header_height, st.quorums_validated,
         (unsigned long long)st.bytes_in);
#ifdef DQS_SIMNET
  /* Locks as a wallet receives them from peers: here the simulated network's own ChainLock of
   * the tip and its newest InstantSend lock, verified against the quorums just synced. */
  if (net && is_synced) {
    static const char *verdicts[] = {"valid", "invalid", "unknown"};
    uint8_t lock[512];
    size_t len = 0;
    dqs_lock_status ls;
    if (dqs_simnet_clsig(net, st.header_height, lock, sizeof lock, &len) == DQS_RESULT_OK &&
        dqs_client_verify_clsig(client, lock, len, &ls) == DQS_RESULT_OK) {
      printf("ChainLock of block %u: %s\n", st.header_height, (unsigned)ls < 3 ? verdicts[ls] : "?");
      if (ls != DQS_LOCK_STATUS_VALID) locks_ok = 0;
    } else {
      locks_ok = 0;
      fail("ChainLock verification");
    }
    if (dqs_simnet_latest_islock(net, lock, sizeof lock, &len) == DQS_RESULT_OK &&
        dqs_client_verify_islock(client, lock, len, &ls) == DQS_RESULT_OK) {
      printf("newest InstantSend lock: %s\n", (unsigned)ls < 3 ? verdicts[ls] : "?");
      if (ls != DQS_LOCK_STATUS_VALID) locks_ok = 0;
    } else {
      locks_ok = 0;
      fail("InstantSend lock verification");
    }
  }
#endif
  dqs_client_free(client);
  dqs_config_free(cfg);
#ifdef DQS_SIMNET
  dqs_simnet_free(net);
#endif
  return is_synced && locks_ok ? 0 : 1;
}
