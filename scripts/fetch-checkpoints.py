#!/usr/bin/env python3
"""Rebuilds the checkpoint rows (the input of scripts/gen-checkpoints.py) from a trusted node.

Usage:
  scripts/fetch-checkpoints.py --network mainnet|testnet --rpc URL [--cookie FILE]
                               [--out VECTORS_DIR] [--confirmations N] [--batch N]

Asks a Dash Core node you run and trust, over its JSON-RPC (`getblockchaininfo`,
`getblockhash`, `getblockheader`), for the block at every height that is a multiple of 576
(about one day) from 576 up to the tip minus --confirmations (default 100), and writes
VECTORS_DIR/checkpoints/checkpoints_<network>.json in exactly the format of the shared
checkpoint vectors: for each row the height, the cumulative chain work (Core's `chainwork`,
256-bit hex), the 80-byte header (wire order hex, Core's non-verbose `getblockheader`), its
merkle root and time. `scripts/gen-checkpoints.py VECTORS_DIR` then regenerates
src/chain/checkpoints_data.rs (release steps: docs/CHECKPOINTS.md).

URL: http://USER:PASSWORD@HOST:PORT/ (rpcuser/rpcpassword), or http://HOST:PORT/ with
--cookie pointing at the node's .cookie file. Only the Python standard library is used.

Every row is cross-checked against the node's own answers: the header's version, previous
hash, merkle root, time, bits and nonce equal the verbose header's fields, its height is the
one asked, and chain work strictly increases. (The block hash is X11 of the header; Python has
no X11, so tests/checkpoints.rs checks that on the generated table.)
"""
import argparse
import base64
import json
import os
import struct
import sys
import urllib.parse
import urllib.request

INTERVAL = 576
CHAINS = {"mainnet": "main", "testnet": "test"}
FORMAT = ("each row: height, cumulative chain work (hex, 256-bit), the 80-byte block header "
          "(hex, wire order); block hash = X11(header)")


class Rpc:
    def __init__(self, url, cookie=None):
        self.auth = None
        parsed = urllib.parse.urlsplit(url)
        if parsed.username is not None:
            user = urllib.parse.unquote(parsed.username)
            pw = urllib.parse.unquote(parsed.password or "")
            self.auth = f"{user}:{pw}"
            netloc = parsed.hostname + (f":{parsed.port}" if parsed.port else "")
            url = urllib.parse.urlunsplit((parsed.scheme, netloc, parsed.path or "/", "", ""))
        if cookie:
            with open(cookie) as f:
                self.auth = f.read().strip()
        self.url = url
        self.next_id = 0

    def batch(self, calls):
        """Sends [(method, params), ...] as one JSON-RPC batch; returns the results in order."""
        body = []
        for method, params in calls:
            self.next_id += 1
            body.append({"jsonrpc": "1.0", "id": self.next_id, "method": method,
                         "params": params})
        data = json.dumps(body).encode()
        req = urllib.request.Request(self.url, data=data,
                                     headers={"Content-Type": "application/json"})
        if self.auth:
            token = base64.b64encode(self.auth.encode()).decode()
            req.add_header("Authorization", f"Basic {token}")
        with urllib.request.urlopen(req, timeout=120) as resp:
            answers = json.loads(resp.read())
        by_id = {a["id"]: a for a in answers}
        out = []
        for b in body:
            a = by_id.get(b["id"])
            if a is None:
                sys.exit(f"no answer to {b['method']} {b['params']}")
            if a.get("error"):
                sys.exit(f"{b['method']} {b['params']}: {a['error']}")
            out.append(a["result"])
        return out

    def call(self, method, *params):
        return self.batch([(method, list(params))])[0]


def internal_hex(display):
    return bytes.fromhex(display)[::-1].hex()


def check_row(height, verbose, header_hex):
    """The header bytes against the node's verbose answer for the same block."""
    h = bytes.fromhex(header_hex)
    if len(h) != 80:
        sys.exit(f"{height}: header is {len(h)} bytes, not 80")
    version, = struct.unpack_from("<i", h, 0)
    prev = h[4:36]
    merkle = h[36:68]
    time, bits, nonce = struct.unpack_from("<III", h, 68)
    expect = {
        "height": (verbose["height"], height),
        "version": (verbose["version"], version),
        "previousblockhash": (verbose.get("previousblockhash"), prev[::-1].hex()),
        "merkleroot": (verbose["merkleroot"], merkle[::-1].hex()),
        "time": (verbose["time"], time),
        "bits": (int(verbose["bits"], 16), bits),
        "nonce": (verbose["nonce"], nonce),
    }
    for field, (node, ours) in expect.items():
        if node != ours:
            sys.exit(f"{height}: {field} is {node} at the node but {ours} in the header")


def fetch(rpc, network, confirmations, batch):
    info = rpc.call("getblockchaininfo")
    if info.get("chain") != CHAINS[network]:
        sys.exit(f"the node is on chain {info.get('chain')!r}, not {network}")
    top = info["blocks"] - confirmations
    heights = list(range(INTERVAL, top + 1, INTERVAL))
    rows = []
    for i in range(0, len(heights), batch):
        part = heights[i:i + batch]
        hashes = rpc.batch([("getblockhash", [h]) for h in part])
        verbose = rpc.batch([("getblockheader", [x, True]) for x in hashes])
        raw = rpc.batch([("getblockheader", [x, False]) for x in hashes])
        for h, x, v, r in zip(part, hashes, verbose, raw):
            if v["hash"] != x:
                sys.exit(f"{h}: getblockheader answered for {v['hash']}, not {x}")
            check_row(h, v, r)
            work = int(v["chainwork"], 16)
            if rows and work <= int(rows[-1]["chain_work"], 16):
                sys.exit(f"{h}: chain work does not increase")
            rows.append({
                "height": h,
                "chain_work": f"{work:064x}",
                "header": r.lower(),
                "merkle_root": v["merkleroot"],
                "time": v["time"],
            })
        print(f"{network}: {len(rows)} of {len(heights)} rows", file=sys.stderr)
    return rows


def write(out_dir, network, rows):
    """Writes the rows in the shared vectors' layout (one field per line, as they are)."""
    path = os.path.join(out_dir, "checkpoints", f"checkpoints_{network}.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    lines = ["{", f'"network": {json.dumps(network)},', f'"format": {json.dumps(FORMAT)},',
             f'"count": {len(rows)},', '"rows": [']
    for i, r in enumerate(rows):
        lines.append("{")
        lines.append(",\n".join(f"{json.dumps(k)}: {json.dumps(r[k])}"
                                for k in ("height", "chain_work", "header", "merkle_root",
                                          "time")))
        lines.append("}," if i + 1 < len(rows) else "}")
    lines.append("]")
    lines.append("}")
    with open(path, "w") as f:
        f.write("\n".join(lines))
    print(f"wrote {path}", file=sys.stderr)
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--network", required=True, choices=sorted(CHAINS))
    ap.add_argument("--rpc", required=True, help="http://USER:PASS@HOST:PORT/")
    ap.add_argument("--cookie", help="the node's .cookie file (instead of USER:PASS)")
    ap.add_argument("--out", default=".", help="VECTORS_DIR to write checkpoints/ into")
    ap.add_argument("--confirmations", type=int, default=100,
                    help="rows end at least this many blocks below the node's tip")
    ap.add_argument("--batch", type=int, default=500, help="JSON-RPC calls per request")
    a = ap.parse_args()
    rpc = Rpc(a.rpc, a.cookie)
    rows = fetch(rpc, a.network, a.confirmations, max(1, a.batch))
    if not rows:
        sys.exit("no rows: the node's chain is shorter than one interval")
    write(a.out, a.network, rows)


if __name__ == "__main__":
    main()
