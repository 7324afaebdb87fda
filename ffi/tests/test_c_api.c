/* C tests of the dash-qrsync C ABI, against the built-in simulated network.
 * Built and run by tests/c_abi.rs (static and shared linking, and under valgrind). */
#define _POSIX_C_SOURCE 200809L
#include "dash_qrsync.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHECK(cond)                                                              \
  do {                                                                           \
    if (!(cond)) {                                                               \
      char msg_[512];                                                            \
      dqs_last_error_message(msg_, sizeof msg_);                                 \
      fprintf(stderr, "%s:%d: check failed: %s (last error: %s)\n", __FILE__,    \
              __LINE__, #cond, msg_);                                            \
      exit(1);                                                                   \
    }                                                                            \
  } while (0)

/* ---- a C store: a small key/value table behind a mutex ---- */
#define MAX_KEYS 8
typedef struct {
  pthread_mutex_t mu;
  char *keys[MAX_KEYS];
  uint8_t *vals[MAX_KEYS];
  size_t lens[MAX_KEYS];
  int saves;
} mem_store;

static int find(mem_store *s, const char *key) {
  for (int i = 0; i < MAX_KEYS; i++)
    if (s->keys[i] && strcmp(s->keys[i], key) == 0) return i;
  return -1;
}

static int32_t st_load(void *ud, const char *key, uint8_t **out, size_t *out_len) {
  mem_store *s = ud;
  pthread_mutex_lock(&s->mu);
  int i = find(s, key);
  if (i < 0) { pthread_mutex_unlock(&s->mu); return 1; }
  *out = malloc(s->lens[i] ? s->lens[i] : 1);
  memcpy(*out, s->vals[i], s->lens[i]);
  *out_len = s->lens[i];
  pthread_mutex_unlock(&s->mu);
  return 0;
}

static int32_t st_save(void *ud, const char *key, const uint8_t *data, size_t len) {
  mem_store *s = ud;
  pthread_mutex_lock(&s->mu);
  int i = find(s, key);
  if (i < 0) {
    for (i = 0; i < MAX_KEYS && s->keys[i]; i++) {}
    if (i == MAX_KEYS) { pthread_mutex_unlock(&s->mu); return 2; }
    s->keys[i] = strdup(key);
  } else {
    free(s->vals[i]);
  }
  s->vals[i] = malloc(len ? len : 1);
  memcpy(s->vals[i], data, len);
  s->lens[i] = len;
  s->saves++;
  pthread_mutex_unlock(&s->mu);
  return 0;
}

static int32_t st_remove(void *ud, const char *key) {
  mem_store *s = ud;
  pthread_mutex_lock(&s->mu);
  int i = find(s, key);
  if (i >= 0) { free(s->keys[i]); free(s->vals[i]); s->keys[i] = NULL; s->vals[i] = NULL; }
  pthread_mutex_unlock(&s->mu);
  return 0;
}

static void st_free(void *ud, uint8_t *data, size_t len) { (void)ud; (void)len; free(data); }

static void mem_store_clear(mem_store *s) {
  for (int i = 0; i < MAX_KEYS; i++) { free(s->keys[i]); free(s->vals[i]); }
  pthread_mutex_destroy(&s->mu);
}

/* ---- callbacks recording what happened ---- */
typedef struct {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int synced;
  int quorums;
  int progress;
  int errors;
  int internal_errors;
  int misbehaved_errors;
  int unsupported_errors;
  int update_required;
  int masternodes_changed;
  uint32_t masternodes_count;
  dqs_client *stop_me; /* when set, stopped and freed from inside on_state(SYNCED) */
  int stopped_inside;
} recorder;

static void on_progress(void *ud, const dqs_progress *p) {
  recorder *r = ud;
  pthread_mutex_lock(&r->mu);
  r->progress++;
  CHECK(p->percent >= 0.0f && p->percent <= 100.0f);
  pthread_mutex_unlock(&r->mu);
}
static void on_quorum(void *ud, const dqs_quorum *q) {
  recorder *r = ud;
  pthread_mutex_lock(&r->mu);
  r->quorums++;
  CHECK(q->public_key[0] & 0x80); /* compressed-point flag of the basic encoding */
  pthread_mutex_unlock(&r->mu);
}
static void on_state(void *ud, dqs_state s) {
  recorder *r = ud;
  if (s == DQS_STATE_SYNCED && r->stop_me) {
    dqs_client *c = r->stop_me;
    r->stop_me = NULL;
    CHECK(dqs_client_stop(c) == DQS_RESULT_OK);
    dqs_client_free(c);
    pthread_mutex_lock(&r->mu);
    r->stopped_inside = 1;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    return;
  }
  pthread_mutex_lock(&r->mu);
  if (s == DQS_STATE_SYNCED) r->synced++;
  if (s == DQS_STATE_UPDATE_REQUIRED) r->update_required++;
  pthread_cond_broadcast(&r->cv);
  pthread_mutex_unlock(&r->mu);
}
static void on_error(void *ud, const dqs_error *e) {
  recorder *r = ud;
  CHECK(e->message != NULL);
  pthread_mutex_lock(&r->mu);
  r->errors++;
  if (e->kind == DQS_ERROR_KIND_PEER_MISBEHAVED) r->misbehaved_errors++;
  if (e->kind == DQS_ERROR_KIND_UNSUPPORTED_PROTOCOL) {
    CHECK(strstr(e->message, "SML entry version 4") != NULL);
    CHECK(strstr(e->message, "dash-qrsync") != NULL);
    r->unsupported_errors++;
  }
  if (e->kind == DQS_ERROR_KIND_INTERNAL) {
    fprintf(stderr, "internal error: %s\n", e->message);
    r->internal_errors++;
  }
  pthread_mutex_unlock(&r->mu);
}

static void on_masternodes_changed(void *ud, const dqs_masternodes_changed *m) {
  recorder *r = ud;
  pthread_mutex_lock(&r->mu);
  r->masternodes_changed++;
  r->masternodes_count = m->count;
  pthread_mutex_unlock(&r->mu);
}

static void recorder_init(recorder *r) {
  memset(r, 0, sizeof *r);
  pthread_mutex_init(&r->mu, NULL);
  pthread_cond_init(&r->cv, NULL);
}

static int wait_flag(recorder *r, int *flag, int seconds) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += seconds;
  pthread_mutex_lock(&r->mu);
  while (!*flag) {
    if (pthread_cond_timedwait(&r->cv, &r->mu, &ts) != 0) break;
  }
  int v = *flag;
  pthread_mutex_unlock(&r->mu);
  return v;
}

static dqs_callbacks callbacks_for(recorder *r) {
  dqs_callbacks cb;
  memset(&cb, 0, sizeof cb);
  cb.struct_size = sizeof cb;
  cb.user_data = r;
  cb.on_progress = on_progress;
  cb.on_quorum = on_quorum;
  cb.on_state = on_state;
  cb.on_error = on_error;
  cb.on_masternodes_changed = on_masternodes_changed;
  return cb;
}

static dqs_store store_for(mem_store *s) {
  dqs_store st;
  memset(&st, 0, sizeof st);
  st.struct_size = sizeof st;
  st.user_data = s;
  st.load = st_load;
  st.save = st_save;
  st.remove = st_remove;
  st.free_buffer = st_free;
  return st;
}

static dqs_config *config_for(uint16_t port) {
  dqs_config *cfg = NULL;
  CHECK(dqs_config_new(DQS_NETWORK_REGTEST, &cfg) == DQS_RESULT_OK);
  char addr[64];
  snprintf(addr, sizeof addr, "127.0.0.1:%u", (unsigned)port);
  CHECK(dqs_config_add_peer(cfg, addr) == DQS_RESULT_OK);
  CHECK(dqs_config_set_timeouts(cfg, 3000, 5000) == DQS_RESULT_OK);
  return cfg;
}

/* ---- two threads querying one client while it syncs ---- */
static void *hammer(void *arg) {
  dqs_client *c = arg;
  for (int i = 0; i < 200; i++) {
    dqs_status st;
    CHECK(dqs_client_status(c, &st) == DQS_RESULT_OK);
    size_t n = 0;
    dqs_result r = dqs_client_quorums(c, 100, NULL, 0, &n);
    CHECK(r == DQS_RESULT_OK || r == DQS_RESULT_ERR_BUFFER_TOO_SMALL);
  }
  return NULL;
}

static void test_full_sync_and_restart(uint16_t port) {
  mem_store store;
  memset(&store, 0, sizeof store);
  pthread_mutex_init(&store.mu, NULL);
  recorder rec;
  recorder_init(&rec);
  dqs_config *cfg = config_for(port);
  dqs_store st = store_for(&store);
  dqs_callbacks cb = callbacks_for(&rec);
  dqs_client *client = NULL;
  CHECK(dqs_client_new(cfg, &st, &cb, &client) == DQS_RESULT_OK);
  CHECK(dqs_client_start(client) == DQS_RESULT_OK);
  pthread_t t1, t2;
  pthread_create(&t1, NULL, hammer, client);
  pthread_create(&t2, NULL, hammer, client);
  CHECK(wait_flag(&rec, &rec.synced, 120));
  pthread_join(t1, NULL);
  pthread_join(t2, NULL);

  dqs_status s;
  CHECK(dqs_client_status(client, &s) == DQS_RESULT_OK);
  CHECK(s.state == DQS_STATE_SYNCED && s.has_list && s.quorums_validated > 0);
  CHECK(rec.quorums == (int)s.quorums_validated && rec.progress > 0);

  /* List the ChainLocks quorums (LLMQ_TEST = 100) and look one up by hash. */
  size_t n = 0;
  CHECK(dqs_client_quorums(client, 100, NULL, 0, &n) == DQS_RESULT_ERR_BUFFER_TOO_SMALL);
  CHECK(n > 0);
  dqs_quorum qs[16];
  CHECK(n <= 16);
  CHECK(dqs_client_quorums(client, 100, qs, 16, &n) == DQS_RESULT_OK);
  dqs_quorum one;
  CHECK(dqs_client_quorum(client, 100, qs[0].quorum_hash, &one) == DQS_RESULT_OK);
  CHECK(memcmp(one.public_key, qs[0].public_key, 48) == 0);
  uint8_t zero[32] = {0};
  CHECK(dqs_client_quorum(client, 100, zero, &one) == DQS_RESULT_ERR_NOT_FOUND);

  /* The masternode address book at the tip, and its "changed" event. */
  dqs_masternode_list *book = NULL;
  CHECK(dqs_client_masternodes(client, NULL) == DQS_RESULT_ERR_NULL);
  CHECK(dqs_client_masternodes(NULL, &book) == DQS_RESULT_ERR_NULL);
  CHECK(dqs_client_masternodes(client, &book) == DQS_RESULT_OK && book != NULL);
  dqs_masternode_list_info info;
  info.struct_size = 4;
  CHECK(dqs_masternode_list_get_info(book, &info) == DQS_RESULT_ERR_INVALID_ARGUMENT);
  info.struct_size = sizeof info;
  CHECK(dqs_masternode_list_get_info(book, &info) == DQS_RESULT_OK);
  CHECK(info.count > 0 && info.height > 0);
  pthread_mutex_lock(&rec.mu);
  CHECK(rec.masternodes_changed > 0 && rec.masternodes_count == info.count);
  pthread_mutex_unlock(&rec.mu);
  size_t addresses = 0;
  for (size_t i = 0; i < info.count; i++) {
    dqs_masternode mn;
    mn.struct_size = sizeof mn;
    CHECK(dqs_masternode_list_entry(book, i, &mn) == DQS_RESULT_OK);
    CHECK(mn.mn_type == DQS_MASTERNODE_TYPE_REGULAR || mn.mn_type == DQS_MASTERNODE_TYPE_EVO);
    CHECK(mn.has_platform_node_id == (mn.mn_type == DQS_MASTERNODE_TYPE_EVO));
    size_t found = 99;
    CHECK(dqs_masternode_list_find(book, mn.pro_reg_tx_hash, &found) == DQS_RESULT_OK && found == i);
    for (size_t a = 0; a < mn.address_count; a++) {
      dqs_masternode_address ad;
      ad.struct_size = sizeof ad;
      CHECK(dqs_masternode_list_address(book, i, a, &ad) == DQS_RESULT_OK);
      CHECK(ad.host != NULL && ad.host_port != NULL && strlen(ad.host) > 0);
      CHECK(strstr(ad.host_port, ad.host) != NULL);
      addresses++;
    }
    dqs_masternode_address ad;
    ad.struct_size = sizeof ad;
    CHECK(dqs_masternode_list_address(book, i, mn.address_count, &ad) ==
          DQS_RESULT_ERR_INVALID_ARGUMENT);
  }
  CHECK(addresses > 0);
  dqs_masternode past;
  past.struct_size = sizeof past;
  CHECK(dqs_masternode_list_entry(book, info.count, &past) == DQS_RESULT_ERR_INVALID_ARGUMENT);
  CHECK(dqs_masternode_list_entry(NULL, 0, &past) == DQS_RESULT_ERR_NULL);
  size_t idx;
  CHECK(dqs_masternode_list_find(book, zero, &idx) == DQS_RESULT_ERR_NOT_FOUND);
  dqs_masternode_list_free(book);
  dqs_masternode_list_free(NULL);

  CHECK(dqs_client_stop(client) == DQS_RESULT_OK);
  dqs_client_free(client);
  CHECK(store.saves > 0);

  /* Restart with the same store: synced again. */
  recorder rec2;
  recorder_init(&rec2);
  dqs_callbacks cb2 = callbacks_for(&rec2);
  CHECK(dqs_client_new(cfg, &st, &cb2, &client) == DQS_RESULT_OK);
  CHECK(dqs_client_start(client) == DQS_RESULT_OK);
  CHECK(wait_flag(&rec2, &rec2.synced, 120));
  dqs_client_free(client);
  dqs_config_free(cfg);
  mem_store_clear(&store);
  printf("full sync, quorum queries, concurrent calls and restart: ok (%d quorums)\n", rec.quorums);
}

static void test_stop_and_free_inside_callback(uint16_t port) {
  recorder rec;
  recorder_init(&rec);
  dqs_config *cfg = config_for(port);
  dqs_callbacks cb = callbacks_for(&rec);
  dqs_client *client = NULL;
  CHECK(dqs_client_new(cfg, NULL, &cb, &client) == DQS_RESULT_OK);
  rec.stop_me = client;
  CHECK(dqs_client_start(client) == DQS_RESULT_OK);
  CHECK(wait_flag(&rec, &rec.stopped_inside, 120));
  dqs_config_free(cfg);
  printf("stop and free from inside a callback: ok\n");
}

static void test_error_paths(void) {
  char msg[256];
  dqs_config *cfg = NULL;
  CHECK(dqs_config_new(DQS_NETWORK_REGTEST, NULL) == DQS_RESULT_ERR_NULL);
  CHECK(dqs_last_error_message(msg, sizeof msg) > 0);
  CHECK(dqs_config_new(99, &cfg) == DQS_RESULT_ERR_INVALID_ARGUMENT);
  CHECK(dqs_config_new(DQS_NETWORK_REGTEST, &cfg) == DQS_RESULT_OK);
  CHECK(dqs_config_add_peer(NULL, "127.0.0.1:1") == DQS_RESULT_ERR_NULL);
  CHECK(dqs_config_add_peer(cfg, NULL) == DQS_RESULT_ERR_NULL);
  CHECK(dqs_config_add_peer(cfg, "not an address") == DQS_RESULT_ERR_INVALID_ARGUMENT);
  CHECK(dqs_config_add_peer(cfg, "\xff\xfe") == DQS_RESULT_ERR_INVALID_UTF8);
  /* Values the Rust validation refuses: the configuration's own error, Rust's message. */
  CHECK(dqs_config_set_timeouts(cfg, 0, 10) == DQS_RESULT_ERR_INVALID_CONFIG);
  CHECK(dqs_last_error_message(msg, sizeof msg) > 0 && strcmp(msg, "timeouts must be positive") == 0);
  CHECK(dqs_config_set_max_peers(cfg, 0) == DQS_RESULT_ERR_INVALID_CONFIG);
  CHECK(dqs_last_error_message(msg, sizeof msg) > 0 &&
        strcmp(msg, "max_peers must be between 1 and 16") == 0);
  CHECK(dqs_config_set_max_peers(cfg, 17) == DQS_RESULT_ERR_INVALID_CONFIG);
  CHECK(dqs_config_set_max_peers(cfg, 16) == DQS_RESULT_OK);
  CHECK(dqs_config_set_protocol_version(cfg, 70229) == DQS_RESULT_ERR_INVALID_CONFIG);
  CHECK(dqs_config_set_protocol_version(cfg, 70230) == DQS_RESULT_OK);
  CHECK(dqs_config_set_protocol_version(NULL, 70230) == DQS_RESULT_ERR_NULL);
  dqs_network net_out = DQS_NETWORK_MAINNET;
  CHECK(dqs_config_network(cfg, &net_out) == DQS_RESULT_OK && net_out == DQS_NETWORK_REGTEST);
  CHECK(dqs_config_network(cfg, NULL) == DQS_RESULT_ERR_NULL);
  CHECK(dqs_config_set_dash_conf(cfg, "testnet=1\n") == DQS_RESULT_OK);
  CHECK(dqs_config_network(cfg, &net_out) == DQS_RESULT_OK && net_out == DQS_NETWORK_TESTNET);
  CHECK(dqs_config_set_dash_conf(cfg, "regtest=1\n") == DQS_RESULT_OK);
  CHECK(dqs_config_network(cfg, &net_out) == DQS_RESULT_OK && net_out == DQS_NETWORK_REGTEST);
  /* No peers yet: what dqs_client_new would refuse, found before it. */
  CHECK(dqs_config_validate(cfg) == DQS_RESULT_ERR_INVALID_CONFIG);
  CHECK(dqs_last_error_message(msg, sizeof msg) > 0 &&
        strcmp(msg, "no peers configured and DNS seeds disabled") == 0);
  CHECK(dqs_config_validate(NULL) == DQS_RESULT_ERR_NULL);
  bool installed = false;
  CHECK(dqs_enable_logging(9, &installed) == DQS_RESULT_ERR_INVALID_ARGUMENT);
  CHECK(dqs_enable_logging(DQS_LOG_LEVEL_WARN, &installed) == DQS_RESULT_OK && installed);
  CHECK(dqs_enable_logging(DQS_LOG_LEVEL_TRACE, &installed) == DQS_RESULT_OK && !installed);
  CHECK(dqs_enable_logging(DQS_LOG_LEVEL_WARN, NULL) == DQS_RESULT_OK);
  CHECK(dqs_config_set_profile(cfg, 2) == DQS_RESULT_ERR_INVALID_ARGUMENT);
  CHECK(dqs_config_set_profile(NULL, DQS_PROFILE_WALLET) == DQS_RESULT_ERR_NULL);
  /* A NULL config is reported as NULL even when the value is bad too. */
  CHECK(dqs_config_set_profile(NULL, 99) == DQS_RESULT_ERR_NULL);
  CHECK(dqs_config_set_timeouts(NULL, 0, 0) == DQS_RESULT_ERR_NULL);
  CHECK(dqs_config_set_max_peers(NULL, 0) == DQS_RESULT_ERR_NULL);
  CHECK(dqs_config_set_profile(cfg, DQS_PROFILE_WALLET) == DQS_RESULT_OK);
  CHECK(dqs_config_set_profile(cfg, DQS_PROFILE_FULL) == DQS_RESULT_OK);
  uint8_t hdr[80] = {0};
  CHECK(dqs_config_set_checkpoint(cfg, 1, hdr, 79) == DQS_RESULT_ERR_INVALID_ARGUMENT);
  CHECK(dqs_config_set_checkpoint(cfg, 1, NULL, 80) == DQS_RESULT_ERR_NULL);

  /* No peers and no DNS seeds: the configuration cannot work. */
  dqs_client *client = NULL;
  CHECK(dqs_client_new(cfg, NULL, NULL, &client) == DQS_RESULT_ERR_INVALID_CONFIG);
  CHECK(client == NULL);
  CHECK(dqs_last_error_length() > 0);
  CHECK(dqs_config_add_peer(cfg, "127.0.0.1:9") == DQS_RESULT_OK);
  dqs_store bad_store;
  memset(&bad_store, 0, sizeof bad_store);
  bad_store.struct_size = 4;
  CHECK(dqs_client_new(cfg, &bad_store, NULL, &client) == DQS_RESULT_ERR_INVALID_ARGUMENT);
  CHECK(dqs_client_new(NULL, NULL, NULL, &client) == DQS_RESULT_ERR_NULL);
  /* Callbacks from a header without `on_masternodes_changed` are accepted; shorter ones not. */
  dqs_callbacks old_cb;
  memset(&old_cb, 0, sizeof old_cb);
  old_cb.struct_size = (uint32_t)offsetof(dqs_callbacks, on_masternodes_changed);
  CHECK(dqs_client_new(cfg, NULL, &old_cb, &client) == DQS_RESULT_OK);
  dqs_client_free(client);
  client = NULL;
  old_cb.struct_size = (uint32_t)offsetof(dqs_callbacks, on_error);
  CHECK(dqs_client_new(cfg, NULL, &old_cb, &client) == DQS_RESULT_ERR_INVALID_ARGUMENT);
  /* Residue 3 (issue #23): a struct shorter than this header's, allocated to exactly its
   * size, is never read past its end (valgrind in tests/c_abi.rs reports a read past a heap
   * block): only `struct_size` is read before the size check. */
  {
    size_t short_store = offsetof(dqs_store, free_buffer);
    uint8_t *ss_bytes = calloc(1, short_store);
    CHECK(ss_bytes != NULL);
    uint32_t sz = (uint32_t)short_store;
    memcpy(ss_bytes, &sz, sizeof sz);
    CHECK(dqs_client_new(cfg, (const dqs_store *)ss_bytes, NULL, &client) ==
          DQS_RESULT_ERR_INVALID_ARGUMENT);
    CHECK(client == NULL);
    free(ss_bytes);
    uint32_t *size_only = malloc(sizeof(uint32_t));
    CHECK(size_only != NULL);
    *size_only = sizeof(uint32_t);
    CHECK(dqs_client_new(cfg, (const dqs_store *)size_only, NULL, &client) ==
          DQS_RESULT_ERR_INVALID_ARGUMENT);
    CHECK(dqs_client_new(cfg, NULL, (const dqs_callbacks *)size_only, &client) ==
          DQS_RESULT_ERR_INVALID_ARGUMENT);
    free(size_only);
    size_t old_size = offsetof(dqs_callbacks, on_masternodes_changed);
    uint8_t *cb_bytes = calloc(1, old_size);
    CHECK(cb_bytes != NULL);
    sz = (uint32_t)old_size;
    memcpy(cb_bytes, &sz, sizeof sz);
    CHECK(dqs_client_new(cfg, NULL, (const dqs_callbacks *)cb_bytes, &client) == DQS_RESULT_OK);
    dqs_client_free(client);
    client = NULL;
    free(cb_bytes);
  }
  CHECK(dqs_client_new(cfg, NULL, NULL, &client) == DQS_RESULT_OK);
  /* No list validated yet: no address book. */
  dqs_masternode_list *no_book = (dqs_masternode_list *)1;
  CHECK(dqs_client_masternodes(client, &no_book) == DQS_RESULT_ERR_NOT_FOUND && no_book == NULL);

  /* Bad bytes to the verify functions. */
  dqs_lock_status ls;
  uint8_t junk[10] = {1, 2, 3};
  CHECK(dqs_client_verify_clsig(client, junk, sizeof junk, &ls) == DQS_RESULT_ERR_INVALID_ARGUMENT);
  CHECK(dqs_client_verify_islock(client, junk, sizeof junk, &ls) == DQS_RESULT_ERR_INVALID_ARGUMENT);
  CHECK(dqs_client_verify_clsig(client, NULL, 132, &ls) == DQS_RESULT_ERR_NULL);
  /* Residue 2 (issue #23): a NULL out pointer is ERR_NULL before any work: the junk bytes,
   * which would fail decoding with ERR_INVALID_ARGUMENT, are never looked at. */
  CHECK(dqs_client_verify_clsig(client, junk, sizeof junk, NULL) == DQS_RESULT_ERR_NULL);
  CHECK(dqs_client_verify_islock(client, junk, sizeof junk, NULL) == DQS_RESULT_ERR_NULL);
  CHECK(dqs_client_verify_clsig(NULL, junk, sizeof junk, NULL) == DQS_RESULT_ERR_NULL);
  CHECK(dqs_client_verify_islock(client, NULL, 5, NULL) == DQS_RESULT_ERR_NULL);
  uint8_t clsig[132] = {0};
  clsig[0] = 100; /* height 100, zero hash and signature: decodes, cannot verify */
  CHECK(dqs_client_verify_clsig(client, clsig, sizeof clsig, &ls) == DQS_RESULT_OK);
  CHECK(ls != DQS_LOCK_STATUS_VALID);
  CHECK(dqs_client_status(NULL, NULL) == DQS_RESULT_ERR_NULL);
  dqs_status st;
  CHECK(dqs_client_status(client, NULL) == DQS_RESULT_ERR_NULL);
  CHECK(dqs_client_status(client, &st) == DQS_RESULT_OK && st.state == DQS_STATE_IDLE);
  CHECK(dqs_client_start(NULL) == DQS_RESULT_ERR_NULL);
  dqs_client_free(client);
  dqs_client_free(NULL);
  dqs_config_free(cfg);
  dqs_config_free(NULL);
  CHECK(dqs_last_error_message(NULL, 10) == 0);
  printf("error paths: ok\n");
}

/* Start points: the built-in checkpoint table (mainnet to 2,302,272), birth height and time,
 * genesis and a host header with the hash it claims (the real mainnet genesis). */
static void test_start_points(void) {
  static const uint8_t genesis[80] = {
      0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0xc7, 0x62, 0xa6, 0x56, 0x7f, 0x3c, 0xc0, 0x92, 0xf0, 0x68, 0x4b, 0xb6,
      0x2b, 0x7e, 0x00, 0xa8, 0x48, 0x90, 0xb9, 0x90, 0xf0, 0x7c, 0xc7, 0x1a, 0x6b, 0xb5, 0x8d, 0x64,
      0xb9, 0x8e, 0x02, 0xe0, 0x02, 0x2d, 0xdb, 0x52, 0xf0, 0xff, 0x0f, 0x1e, 0xc2, 0x3f, 0xb9, 0x01};
  /* 00000ffd590b1485b3caadc19b22e6379c733355108f107a430458cdf3407ab6, internal byte order. */
  uint8_t genesis_hash[32] = {
      0xb6, 0x7a, 0x40, 0xf3, 0xcd, 0x58, 0x04, 0x43, 0x7a, 0x10, 0x8f, 0x10, 0x55, 0x33, 0x73, 0x9c,
      0x37, 0xe6, 0x22, 0x9b, 0xc1, 0xad, 0xca, 0xb3, 0x85, 0x14, 0x0b, 0x59, 0xfd, 0x0f, 0x00, 0x00};
  dqs_config *cfg = NULL;
  uint32_t h = 1;
  CHECK(dqs_config_new(DQS_NETWORK_MAINNET, &cfg) == DQS_RESULT_OK);
  CHECK(dqs_config_start_height(cfg, &h) == DQS_RESULT_OK && h == 2302272);
  CHECK(dqs_config_start_height(NULL, &h) == DQS_RESULT_ERR_NULL);
  CHECK(dqs_config_start_height(cfg, NULL) == DQS_RESULT_ERR_NULL);
  CHECK(dqs_config_set_birth_height(NULL, 2000000) == DQS_RESULT_ERR_NULL);
  CHECK(dqs_config_set_birth_height(cfg, 100) == DQS_RESULT_ERR_INVALID_CONFIG);
  CHECK(dqs_last_error_length() > 0);
  CHECK(dqs_config_start_height(cfg, &h) == DQS_RESULT_OK && h == 2302272); /* unchanged */
  CHECK(dqs_config_set_birth_height(cfg, 2000000) == DQS_RESULT_OK);
  CHECK(dqs_config_start_height(cfg, &h) == DQS_RESULT_OK && h <= 2000000 && h > 2000000 - 16128 &&
        h % 576 == 0);
  CHECK(dqs_config_set_birth_time(cfg, 1000) == DQS_RESULT_ERR_INVALID_CONFIG);
  CHECK(dqs_config_set_birth_time(NULL, 1700000000) == DQS_RESULT_ERR_NULL);
  CHECK(dqs_config_set_birth_time(cfg, 1700000000) == DQS_RESULT_OK);
  CHECK(dqs_config_start_height(cfg, &h) == DQS_RESULT_OK && h > 1000000 && h < 2302272);
  CHECK(dqs_config_set_start_genesis(cfg) == DQS_RESULT_OK);
  CHECK(dqs_config_start_height(cfg, &h) == DQS_RESULT_OK && h == 0);
  CHECK(dqs_config_set_start_newest(cfg) == DQS_RESULT_OK);
  CHECK(dqs_config_start_height(cfg, &h) == DQS_RESULT_OK && h == 2302272);
  CHECK(dqs_config_set_start_newest(NULL) == DQS_RESULT_ERR_NULL);
  CHECK(dqs_config_set_start_genesis(NULL) == DQS_RESULT_ERR_NULL);
  /* A host header with the hash it claims; a wrong claim, a wrong height, bad sizes, NULLs. */
  CHECK(dqs_config_set_start_header(cfg, 0, genesis, 80, genesis_hash) == DQS_RESULT_OK);
  CHECK(dqs_config_start_height(cfg, &h) == DQS_RESULT_OK && h == 0);
  genesis_hash[5] ^= 1;
  CHECK(dqs_config_set_start_header(cfg, 0, genesis, 80, genesis_hash) ==
        DQS_RESULT_ERR_INVALID_CONFIG);
  genesis_hash[5] ^= 1;
  CHECK(dqs_config_set_start_header(cfg, 1500, genesis, 80, genesis_hash) ==
        DQS_RESULT_ERR_INVALID_CONFIG);
  CHECK(dqs_config_set_start_header(cfg, 0, genesis, 79, genesis_hash) ==
        DQS_RESULT_ERR_INVALID_ARGUMENT);
  CHECK(dqs_config_set_start_header(cfg, 0, NULL, 80, genesis_hash) == DQS_RESULT_ERR_NULL);
  CHECK(dqs_config_set_start_header(cfg, 0, genesis, 80, NULL) == DQS_RESULT_ERR_NULL);
  CHECK(dqs_config_set_start_header(NULL, 0, genesis, 80, genesis_hash) == DQS_RESULT_ERR_NULL);
  /* A trusted checkpoint: the genesis header at 0 is accepted, at another height (where the
   * header's proof of work does not meet the rules or a checkpoint differs) refused. */
  CHECK(dqs_config_set_checkpoint(cfg, 0, genesis, 80) == DQS_RESULT_OK);
  CHECK(dqs_config_start_height(cfg, &h) == DQS_RESULT_OK && h == 0);
  CHECK(dqs_config_set_checkpoint(cfg, 1500, genesis, 80) == DQS_RESULT_ERR_INVALID_CONFIG);
  CHECK(dqs_config_start_height(cfg, &h) == DQS_RESULT_OK && h == 0); /* unchanged */
  CHECK(dqs_config_set_start_newest(cfg) == DQS_RESULT_OK); /* replaces the checkpoint */
  CHECK(dqs_config_start_height(cfg, &h) == DQS_RESULT_OK && h == 2302272);
  dqs_config_free(cfg);
  /* Regtest has no built-in checkpoints: the default is genesis and a birth height is refused. */
  CHECK(dqs_config_new(DQS_NETWORK_REGTEST, &cfg) == DQS_RESULT_OK);
  CHECK(dqs_config_start_height(cfg, &h) == DQS_RESULT_OK && h == 0);
  CHECK(dqs_config_set_birth_height(cfg, 1000) == DQS_RESULT_ERR_INVALID_CONFIG);
  CHECK(dqs_config_set_birth_time(cfg, 1700000000) == DQS_RESULT_ERR_INVALID_CONFIG);
  dqs_config_free(cfg);
}

/* The simulated network's own ChainLock and InstantSend lock verify as valid through the C
 * ABI; one flipped byte makes each not valid. The locked block's hash (bytes 4..36 of a
 * clsig) is the client's block hash at that height. */
static void test_locks_from_the_simulator(dqs_simnet *net, uint16_t port) {
  recorder rec;
  recorder_init(&rec);
  dqs_config *cfg = config_for(port);
  dqs_callbacks cb = callbacks_for(&rec);
  dqs_client *client = NULL;
  CHECK(dqs_client_new(cfg, NULL, &cb, &client) == DQS_RESULT_OK);
  CHECK(dqs_client_start(client) == DQS_RESULT_OK);
  CHECK(wait_flag(&rec, &rec.synced, 120));
  dqs_status s;
  CHECK(dqs_client_status(client, &s) == DQS_RESULT_OK);
  CHECK(s.header_height == dqs_simnet_tip_height(net));
  CHECK(s.round_trips > 0 && s.dependent_round_trips > 0 && s.dependent_round_trips <= s.round_trips);

  uint8_t lock[512];
  size_t len = 0;
  CHECK(dqs_simnet_clsig(net, s.header_height, lock, 10, &len) == DQS_RESULT_ERR_BUFFER_TOO_SMALL);
  CHECK(len == 132);
  CHECK(dqs_simnet_clsig(net, s.header_height, lock, sizeof lock, &len) == DQS_RESULT_OK && len == 132);
  CHECK(dqs_simnet_clsig(net, s.header_height + 1000, lock, sizeof lock, &len) ==
        DQS_RESULT_ERR_NOT_FOUND);
  CHECK(dqs_simnet_clsig(NULL, 1, lock, sizeof lock, &len) == DQS_RESULT_ERR_NULL);
  uint8_t hash[32];
  CHECK(dqs_client_block_hash(client, s.header_height, hash) == DQS_RESULT_OK);
  CHECK(memcmp(hash, lock + 4, 32) == 0);
  CHECK(dqs_client_block_hash(client, s.header_height + 1000, hash) == DQS_RESULT_ERR_NOT_FOUND);
  CHECK(dqs_client_block_hash(client, 0, NULL) == DQS_RESULT_ERR_NULL);
  dqs_lock_status ls;
  CHECK(dqs_client_verify_clsig(client, lock, len, &ls) == DQS_RESULT_OK);
  CHECK(ls == DQS_LOCK_STATUS_VALID);
  lock[len - 20] ^= 0x01; /* a byte of the signature */
  CHECK(dqs_client_verify_clsig(client, lock, len, &ls) == DQS_RESULT_OK);
  CHECK(ls == DQS_LOCK_STATUS_INVALID);
  CHECK(dqs_last_error_length() > 0); /* the reason */

  CHECK(dqs_simnet_latest_islock(net, lock, sizeof lock, &len) == DQS_RESULT_OK);
  CHECK(len > 96 + 64);
  CHECK(dqs_client_verify_islock(client, lock, len, &ls) == DQS_RESULT_OK);
  CHECK(ls == DQS_LOCK_STATUS_VALID);
  /* A flipped signature byte: never valid. Core's rule then tries the previous cycle's
   * quorum, whose list a client synced from scratch does not hold, so the verdict is Unknown
   * (or Invalid when it does hold it). */
  lock[len - 20] ^= 0x01;
  CHECK(dqs_client_verify_islock(client, lock, len, &ls) == DQS_RESULT_OK);
  CHECK(ls == DQS_LOCK_STATUS_INVALID || ls == DQS_LOCK_STATUS_UNKNOWN);
  lock[len - 20] ^= 0x01;
  /* A flipped bit in the version byte (1 -> 0): invalid outright. */
  lock[0] ^= 0x01;
  CHECK(dqs_client_verify_islock(client, lock, len, &ls) == DQS_RESULT_OK);
  CHECK(ls == DQS_LOCK_STATUS_INVALID);
  lock[0] ^= 0x01;
  CHECK(dqs_client_verify_islock(client, lock, len, &ls) == DQS_RESULT_OK);
  CHECK(ls == DQS_LOCK_STATUS_VALID); /* restored */
  dqs_client_free(client);
  dqs_config_free(cfg);
  printf("simulator clsig and islock: valid, flipped byte invalid: ok\n");
}

/* ---- a slow store that records overlapping calls and calls after free ---- */
typedef struct {
  mem_store inner;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int in_call;      /* calls running now */
  int overlapped;   /* a call began while another ran */
  int freed;        /* set by the test once dqs_client_free returned */
  int after_free;   /* calls that began after that */
  int freeing;      /* set by the test just before it calls dqs_client_free */
  int after_freeing; /* calls that began after that (while free ran, or later) */
  int saves_begun;
  int slow_ms;      /* how long each save takes */
} slow_store;

static void slow_enter(slow_store *s) {
  pthread_mutex_lock(&s->mu);
  if (s->in_call > 0) s->overlapped++;
  if (s->freed) s->after_free++;
  if (s->freeing) s->after_freeing++;
  s->in_call++;
  pthread_mutex_unlock(&s->mu);
}
static void slow_leave(slow_store *s) {
  pthread_mutex_lock(&s->mu);
  s->in_call--;
  pthread_mutex_unlock(&s->mu);
}
static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}
static int32_t slow_load(void *ud, const char *key, uint8_t **out, size_t *out_len) {
  slow_store *s = ud;
  slow_enter(s);
  sleep_ms(200);
  int32_t r = st_load(&s->inner, key, out, out_len);
  slow_leave(s);
  return r;
}
static int32_t slow_save(void *ud, const char *key, const uint8_t *data, size_t len) {
  slow_store *s = ud;
  slow_enter(s);
  pthread_mutex_lock(&s->mu);
  s->saves_begun++;
  pthread_cond_broadcast(&s->cv);
  pthread_mutex_unlock(&s->mu);
  sleep_ms(s->slow_ms);
  int32_t r = st_save(&s->inner, key, data, len);
  slow_leave(s);
  return r;
}
static int32_t slow_remove(void *ud, const char *key) {
  slow_store *s = ud;
  slow_enter(s);
  int32_t r = st_remove(&s->inner, key);
  slow_leave(s);
  return r;
}
static void slow_free(void *ud, uint8_t *data, size_t len) {
  slow_store *s = ud;
  st_free(&s->inner, data, len);
}
static void slow_init(slow_store *s, int slow_ms) {
  memset(s, 0, sizeof *s);
  pthread_mutex_init(&s->inner.mu, NULL);
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->cv, NULL);
  s->slow_ms = slow_ms;
}
static int wait_saves(slow_store *s, int n, int seconds) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += seconds;
  pthread_mutex_lock(&s->mu);
  while (s->saves_begun < n) {
    if (pthread_cond_timedwait(&s->cv, &s->mu, &ts) != 0) break;
  }
  int v = s->saves_begun >= n;
  pthread_mutex_unlock(&s->mu);
  return v;
}

/* A started client of the simulated network at `port` whose store takes 4 s a save. The
 * store, recorder and configuration live in *ss, *rec and *cfg (the caller frees cfg). */
static dqs_client *start_with_slow_store(uint16_t port, slow_store *ss, recorder *rec,
                                         dqs_config **cfg) {
  slow_init(ss, 4000);
  dqs_store st;
  memset(&st, 0, sizeof st);
  st.struct_size = sizeof st;
  st.user_data = ss;
  st.load = slow_load;
  st.save = slow_save;
  st.remove = slow_remove;
  st.free_buffer = slow_free;
  recorder_init(rec);
  dqs_callbacks cb = callbacks_for(rec);
  *cfg = config_for(port);
  dqs_client *client = NULL;
  CHECK(dqs_client_new(*cfg, &st, &cb, &client) == DQS_RESULT_OK);
  CHECK(dqs_client_start(client) == DQS_RESULT_OK);
  return client;
}

/* D6: with a save slower than the library's stop timeout, store calls never overlap (also
 * across stop and a new start) and none begins after dqs_client_free returned. */
static void test_slow_store_contract(uint16_t port) {
  slow_store ss;
  recorder rec;
  dqs_config *cfg = NULL;
  dqs_client *client = start_with_slow_store(port, &ss, &rec, &cfg);
  /* Stop and restart while the first save is in progress. */
  CHECK(wait_saves(&ss, 1, 120));
  CHECK(dqs_client_stop(client) == DQS_RESULT_OK);
  CHECK(dqs_client_start(client) == DQS_RESULT_OK);
  /* Free while a save of the restarted client is in progress. */
  CHECK(wait_saves(&ss, 2, 120));
  dqs_client_free(client);
  pthread_mutex_lock(&ss.mu);
  ss.freed = 1;
  int running = ss.in_call;
  pthread_mutex_unlock(&ss.mu);
  CHECK(running == 0); /* free waited for the call in progress */
  sleep_ms(6000);      /* longer than any save: a call the library still held would show */
  pthread_mutex_lock(&ss.mu);
  printf("slow store: %d saves begun, %d overlapping, %d after free\n", ss.saves_begun,
         ss.overlapped, ss.after_free);
  CHECK(ss.overlapped == 0);
  CHECK(ss.after_free == 0);
  pthread_mutex_unlock(&ss.mu);
  dqs_config_free(cfg);
  mem_store_clear(&ss.inner);
  printf("slow store contract: ok\n");
}

/* Residue 1 (issue #23): free while the first write of a save is in progress (the save is
 * slower than the library's 3 s stop timeout). free waits for that write, and no store call
 * begins once free was entered: not the save's second write (the head record), not a new
 * save. Before the fix the client was dropped first and the gate closed after, so the head
 * write queued behind the slow slot write began while free ran. */
static void test_free_during_slow_save(uint16_t port) {
  slow_store ss;
  recorder rec;
  dqs_config *cfg = NULL;
  dqs_client *client = start_with_slow_store(port, &ss, &rec, &cfg);
  CHECK(wait_saves(&ss, 1, 120)); /* the first write of the first save is running */
  pthread_mutex_lock(&ss.mu);
  ss.freeing = 1;
  pthread_mutex_unlock(&ss.mu);
  dqs_client_free(client);
  pthread_mutex_lock(&ss.mu);
  ss.freed = 1;
  int running = ss.in_call;
  pthread_mutex_unlock(&ss.mu);
  CHECK(running == 0);
  sleep_ms(6000); /* longer than any save: a call the library still held would show */
  pthread_mutex_lock(&ss.mu);
  printf("free during a slow save: %d saves begun, %d calls began after free was entered\n",
         ss.saves_begun, ss.after_freeing);
  CHECK(ss.after_freeing == 0);
  CHECK(ss.after_free == 0);
  pthread_mutex_unlock(&ss.mu);
  dqs_config_free(cfg);
  mem_store_clear(&ss.inner);
  printf("free during a slow save: ok\n");
}

/* D7: a start followed at once by a stop is not an internal error. */
static void test_start_then_stop_at_once(uint16_t port) {
  for (int i = 0; i < 7; i++) {
    mem_store store;
    memset(&store, 0, sizeof store);
    pthread_mutex_init(&store.mu, NULL);
    dqs_store st = store_for(&store);
    recorder rec;
    recorder_init(&rec);
    dqs_callbacks cb = callbacks_for(&rec);
    dqs_config *cfg = config_for(port);
    dqs_client *client = NULL;
    CHECK(dqs_client_new(cfg, &st, &cb, &client) == DQS_RESULT_OK);
    CHECK(dqs_client_start(client) == DQS_RESULT_OK);
    CHECK(dqs_client_stop(client) == DQS_RESULT_OK);
    dqs_client_free(client);
    CHECK(rec.internal_errors == 0);
    dqs_config_free(cfg);
    mem_store_clear(&store);
  }
  printf("start then stop at once: ok\n");
}

/* A network newer than the library: the simulator serves every masternode list entry with
 * entry version 4. The client reports DQS_ERROR_KIND_UNSUPPORTED_PROTOCOL (never
 * PEER_MISBEHAVED: a newer peer is not banned) and stops in DQS_STATE_UPDATE_REQUIRED. */
static void test_newer_protocol(void) {
  dqs_simnet *net = NULL;
  uint16_t port = 0;
  CHECK(dqs_simnet_start(11, &net, &port) == DQS_RESULT_OK);
  CHECK(dqs_simnet_serve_entry_version(NULL, 4) == DQS_RESULT_ERR_NULL);
  CHECK(dqs_simnet_serve_entry_version(net, 4) == DQS_RESULT_OK);
  recorder rec;
  recorder_init(&rec);
  dqs_config *cfg = config_for(port);
  dqs_callbacks cb = callbacks_for(&rec);
  dqs_client *client = NULL;
  CHECK(dqs_client_new(cfg, NULL, &cb, &client) == DQS_RESULT_OK);
  CHECK(dqs_client_start(client) == DQS_RESULT_OK);
  CHECK(wait_flag(&rec, &rec.update_required, 120));
  dqs_status s;
  CHECK(dqs_client_status(client, &s) == DQS_RESULT_OK);
  CHECK(s.state == DQS_STATE_UPDATE_REQUIRED);
  CHECK(s.header_height == dqs_simnet_tip_height(net)); /* what was validated is kept */
  pthread_mutex_lock(&rec.mu);
  CHECK(rec.unsupported_errors >= 1);
  CHECK(rec.misbehaved_errors == 0);
  CHECK(rec.internal_errors == 0);
  pthread_mutex_unlock(&rec.mu);
  CHECK(dqs_client_stop(client) == DQS_RESULT_OK);
  dqs_client_free(client);
  dqs_config_free(cfg);
  dqs_simnet_free(net);
  printf("newer protocol: update required, no ban: ok\n");
}

int main(void) {
  CHECK(dqs_abi_version() == DQS_ABI_VERSION);
  CHECK(strlen(dqs_version()) > 0);
  test_error_paths();
  test_start_points();
  dqs_simnet *net = NULL;
  uint16_t port = 0;
  CHECK(dqs_simnet_start(7, &net, &port) == DQS_RESULT_OK);
  CHECK(port != 0 && dqs_simnet_tip_height(net) > 0);
  test_locks_from_the_simulator(net, port);
  test_full_sync_and_restart(port);
  test_stop_and_free_inside_callback(port);
  test_start_then_stop_at_once(port);
  test_slow_store_contract(port);
  test_free_during_slow_save(port);
  dqs_simnet_free(net);
  test_newer_protocol();
  printf("all C tests passed\n");
  return 0;
}
