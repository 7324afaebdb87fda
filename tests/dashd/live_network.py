#!/usr/bin/env python3
"""A real Dash Core regtest network for tests/dashd_live.rs.

Run by that test, never by hand in CI: it needs a Dash Core build (v23.1.x) whose directory
is in DASH_QRSYNC_DASHD (with src/dashd and test/functional/, after ./configure && make) and
the `dash_hash` module from PyPI. It uses Core's own functional test framework to set up a
controller node and masternodes, mines LLMQ quorums (llmq_test and, once v20 is active,
a DIP-0024 cycle), waits for a ChainLock and an InstantSend lock, and then hands the node's
P2P port, its dash.conf, and Core's RPC answers to the Rust test through JSON files in the
directory given by --handoff:

  ready.json      written here: the network is ready to be synced (phase 1)
  phase1.done     written by the Rust test when its checks of phase 1 are finished
  ready2.json     written here after --follow more blocks mined one at a time, each waited
                  for until ChainLocked, with every one of their ChainLocks (phase 2)
  done            written by the Rust test at the end; the network is then shut down

Every wait is bounded; on any failure the framework stops the nodes and exits non-zero.

With --v24 every node runs -vbparams=v24:... (BIP9 version bits, EHF off: the form Core's
test/functional/rpc_netinfo.py uses, so a light client sees the activation in the headers).
Once V24 is active, and before any quorum forms, three of the four masternodes get ProUpServTx
version 3 with several core P2P addresses (IPv4, IPv6, a Tor v3 onion, an I2P address) and two
evonodes are added and updated with several core P2P, platform P2P and platform HTTPS addresses
(IPv6, a Tor v3 onion, domain names). ready.json then also holds Core's `protx diff 1 <tip>
true` and `masternodelist json`, the oracle for the client's masternode address book.
"""

import json
import os
import sys
import time

CORE = os.environ.get("DASH_QRSYNC_DASHD")
if not CORE:
    sys.exit("DASH_QRSYNC_DASHD is not set")
sys.path.insert(0, os.path.join(CORE, "test", "functional"))

from test_framework.test_framework import DashTestFramework  # noqa: E402
from test_framework.util import p2p_port  # noqa: E402


# DEPLOYMENT_V24 by BIP9 version bits, EHF off, active at 200 at the earliest.
V24_VBPARAMS = "-vbparams=v24:0:999999999999:200:10:8:6:5:0"
# Addresses that are only ever registered, never dialled (one masternode each: Core refuses a
# duplicate). Formats as Core's RPC prints them (network E of the captures).
ONION_A = "kpgvmscirrdqpekbqjsvw5teanhatztpp2gl6eee4zkowvwfxwenqaid.onion"
ONION_B = "pg6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscryd.onion"
I2P_A = "c4gfnttsuwqomiygupdqqqyy5y5emnk5c73hrfvatri67prd7vyq.b32.i2p"
I2P_B = "udhdrtrcetjm5sxzskjyr5ztpeszydbh4dpl3pl4utgqqw2v4jna.b32.i2p"


def write_json(path, value):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf8") as f:
        json.dump(value, f, indent=1, sort_keys=True)
    os.replace(tmp, path)


class LiveNetwork(DashTestFramework):
    def add_options(self, parser):
        self.add_wallet_options(parser)
        parser.add_argument("--handoff", dest="handoff", required=True,
                            help="directory for the JSON hand-off with the Rust test")
        parser.add_argument("--v20", dest="v20", type=int, default=100,
                            help="v20/mn_rr activation height (the framework's default is 100)")
        parser.add_argument("--follow", dest="follow", type=int, default=24,
                            help="blocks mined one at a time in phase 2, each ChainLocked")
        parser.add_argument("--wait", dest="wait", type=int, default=600,
                            help="seconds to wait for the Rust test at each phase")
        parser.add_argument("--v24", dest="v24", action="store_true", default=False,
                            help="activate DEPLOYMENT_V24 by version bits and use extended addresses")

    def set_test_params(self):
        # V24 mode registers two evonodes (4,000 DASH collateral each) late, when block rewards
        # are small: the framework's set-up funds node0 from `evo_count` (it only sizes the
        # balance; the 4 masternodes it prepares stay regular), so ask for 3 (13,100 DASH).
        self.set_dash_test_params(5, 4, evo_count=3 if self.options.v24 else 0)
        if self.options.v20 != 100:
            self.delay_v20_and_mn_rr(height=self.options.v20)
        if self.options.v24:
            # name:start:timeout:min_activation_height:window:threshold_start:threshold_min:
            # falloff_coeff:useehf (as network E of the captures and rpc_netinfo.py).
            for args in self.extra_args:
                args.append(V24_VBPARAMS)

    def wait_for_file(self, name):
        path = os.path.join(self.options.handoff, name)
        deadline = time.time() + self.options.wait
        while not os.path.exists(path):
            if os.path.exists(os.path.join(self.options.handoff, "abort")):
                raise AssertionError("the Rust test failed; stopping the network")
            if time.time() > deadline:
                raise AssertionError(f"the Rust test did not write {name} in {self.options.wait} s")
            time.sleep(0.2)

    def chainlocked_block(self):
        node = self.nodes[0]
        self.generate(node, 1)
        tip = node.getbestblockhash()
        self.wait_for_chainlocked_block_all_nodes(tip, timeout=60)
        return node.getbestchainlock()

    def run_test(self):
        node = self.nodes[0]
        node.sporkupdate("SPORK_17_QUORUM_DKG_ENABLED", 0)
        self.wait_for_sporks_same()
        if self.options.v20 != 100:
            self.activate_v20(expected_activation_height=self.options.v20)
        if self.options.v24:
            self.extended_addresses()

        self.log.info("llmq_test quorums")
        self.mine_quorum()
        self.mine_quorum()
        self.chainlocked_block()

        self.log.info("a DIP-0024 cycle")
        self.mine_cycle_quorum()
        self.chainlocked_block()

        self.log.info("an InstantSend lock")
        txid = node.sendtoaddress(node.getnewaddress(), 1)
        self.bump_mocktime(30)
        self.wait_for_instantlock(txid, node)
        islock = node.getislocks([txid])[0]
        best = self.chainlocked_block()

        tip_height = node.getblockcount()
        quorum_list = node.quorum("list")
        info = {}
        for name, hashes in quorum_list.items():
            for h in hashes:
                q = node.quorum("info", self.llmq_type_of(name), h)
                info[f"{name}/{h}"] = {
                    "type": name,
                    "quorumHash": h,
                    "height": q["height"],
                    "quorumIndex": q.get("quorumIndex", 0),
                    "quorumPublicKey": q["quorumPublicKey"],
                }
        with open(node.bitcoinconf, encoding="utf8") as f:
            conf = f.read()
        write_json(os.path.join(self.options.handoff, "ready.json"), {
            "p2p_port": p2p_port(node.index),
            "dash_conf": conf,
            "args": [a for a in node.args if a.startswith("-")] + list(self.extra_args[0]),
            "tip_height": tip_height,
            "tip_hash": node.getbestblockhash(),
            "best_chainlock": best,
            "quorum_list": quorum_list,
            "quorum_info": info,
            "islock": {"txid": txid, "hex": islock["hex"]},
            "blockchaininfo_softforks": node.getblockchaininfo().get("softforks", {}),
            "v24": self.options.v24,
            "protx_diff": node.protx("diff", 1, tip_height, True),
            "masternodelist": node.masternodelist("json"),
        })
        self.log.info("phase 1 ready at height %d; waiting for the Rust test", tip_height)
        self.wait_for_file("phase1.done")

        chainlocks = [self.chainlocked_block() for _ in range(self.options.follow)]
        write_json(os.path.join(self.options.handoff, "ready2.json"), {
            "tip_height": node.getblockcount(),
            "best_chainlock": chainlocks[-1],
            "chainlocks": chainlocks,
        })
        self.log.info("phase 2 ready at height %d", node.getblockcount())
        self.wait_for_file("done")

    def fee_source(self):
        """A funded node0 address to pay a ProUpServTx fee from."""
        node = self.nodes[0]
        addr = node.getnewaddress()
        self.confirm(node.sendtoaddress(addr, 1))
        return addr

    def confirm(self, txid):
        node = self.nodes[0]
        # Before any InstantSend quorum exists nothing can be IS-locked, and Core mines a
        # transaction that is not locked only once it is 10 minutes old
        # (`ChainlockHandler::IsTxSafeForMining`, WAIT_FOR_ISLOCK_TIMEOUT): age it first.
        # The transaction is node0's own (it paid the fee), so `gettransaction` sees it.
        for _ in range(5):
            self.bump_mocktime(601)
            self.generate(node, 1)
            if node.gettransaction(txid)["confirmations"] > 0:
                return
        entry = node.getmempoolentry(txid) if txid in node.getrawmempool() else "not in mempool"
        raise AssertionError(f"{txid} not mined in 5 blocks; mempool entry: {entry}")

    def extended_addresses(self):
        node = self.nodes[0]
        self.log.info("activating V24 by version bits")
        deadline = time.time() + 600
        while not node.getblockchaininfo()["softforks"].get("v24", {}).get("active", False):
            assert time.time() < deadline, "V24 did not activate"
            self.bump_mocktime(10)
            self.generate(node, 10)
        self.log.info("V24 active at %d", node.getblockcount())

        # Regular masternodes: ProUpServTx version 3 with several core P2P addresses.
        updates = [
            lambda p: [f"127.0.0.1:{p}", f"[::1]:{p}", f"{ONION_A}:{p}"],
            lambda p: [f"127.0.0.1:{p}", f"[2a01:4f8::7]:{p}", f"{I2P_A}:0"],
            lambda p: [f"127.0.0.1:{p}", f"10.11.12.13:{p}"],
        ]
        for mn, addrs in zip(self.mninfo[:3], updates):
            port = p2p_port(mn.nodeIdx)
            txid = node.protx("update_service", mn.proTxHash, addrs(port), mn.keyOperator,
                              "", self.fee_source())
            self.confirm(txid)

        # Evonodes: registered (ProRegTx version 3 once V24 is active), then updated with
        # several addresses of every purpose. Each is updated before the next is registered:
        # the framework gives evonode n the platform ports p2p_port(n) + 101 and + 102, so
        # evonode n + 1's P2P platform port is evonode n's HTTPS one, which Core refuses while
        # it is still in use (`bad-protx-dup-netinfo-entry`).
        prepare = self.dynamically_prepare_masternode

        def logged(*args, **kwargs):
            # The framework swallows why a registration failed: log it.
            try:
                return prepare(*args, **kwargs)
            except Exception as e:
                self.log.error("evonode registration: %r", e)
                raise

        self.dynamically_prepare_masternode = logged
        evo_updates = [
            ([ "127.0.0.1:{p}", "[::1]:{p}"],
             ["127.0.0.1:{pp}", f"{ONION_B}:{{pp}}"],
             ["127.0.0.1:{ph}", "evo-a.example.com:{ph}", f"{I2P_B}:0"]),
            (["127.0.0.1:{p}", "[2a01:4f8::8]:{p}"],
             ["127.0.0.1:{pp}", "[::1]:{pp}"],
             ["127.0.0.1:{ph}", "platform.evo-b.example.org:{ph}", "[::1]:{ph}"]),
        ]
        for i, (core, p2p, https) in enumerate(evo_updates):
            evo = self.dynamically_add_masternode(evo=True)
            assert evo is not None, "evonode registration failed"
            p = p2p_port(evo.nodeIdx)
            pp, ph = 19500 + 10 * i, 19600 + 10 * i
            fill = lambda xs: [x.format(p=p, pp=pp, ph=ph) for x in xs]
            state = node.protx("info", evo.proTxHash)["state"]
            txid = node.protx("update_service_evo", evo.proTxHash, fill(core), evo.keyOperator,
                              state["platformNodeID"], fill(p2p), fill(https), "",
                              self.fee_source())
            self.confirm(txid)
        self.sync_blocks()
        versions = [e["nVersion"] for e in node.protx("diff", 1, node.getblockcount(), True)["mnList"]]
        self.log.info("entry versions after the updates: %s", versions)
        assert versions.count(3) >= 5, versions

    def llmq_type_of(self, name):
        return {
            "llmq_test": 100,
            "llmq_test_instantsend": 104,
            "llmq_test_v17": 102,
            "llmq_test_dip0024": 103,
            "llmq_test_platform": 106,
        }[name]


if __name__ == "__main__":
    LiveNetwork().main()
