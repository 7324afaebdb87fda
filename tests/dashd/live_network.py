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

    def set_test_params(self):
        self.set_dash_test_params(5, 4)
        if self.options.v20 != 100:
            self.delay_v20_and_mn_rr(height=self.options.v20)

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
