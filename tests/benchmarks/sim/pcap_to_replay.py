#!/usr/bin/python3
"""Turns the pcap files of a `metalgate sim --pcap` run (OUT/pcap/, one per host link) into what bare_lan
replays: the hosts, and every frame each host sent, as "send TIME_US FROM TO IP_BYTES" (TO a host's name,
or * for a broadcast). A host's own frames are those from its NIC's MAC (the commonest source in its file);
a frame goes to the host whose MAC it is addressed to (a VIP's frames to its owner's NIC).

    tests/benchmarks/sim/pcap_to_replay.py OUT/pcap > replay.txt
"""
import collections
import pathlib
import struct
import sys

BROADCAST = b"\xff" * 6


def frames(path):
    with open(path, "rb") as f:
        f.read(24)
        while True:
            header = f.read(16)
            if len(header) < 16:
                return
            seconds, micros, length, _ = struct.unpack("<IIII", header)
            yield seconds * 1_000_000 + micros, f.read(length)


def main():
    directory = pathlib.Path(sys.argv[1])
    own_mac, address, sent = {}, {}, []
    for path in sorted(directory.glob("*.pcap")):
        host = path.stem
        recorded = list(frames(path))
        sources = collections.Counter(d[6:12] for _, d in recorded)
        mac = sources.most_common(1)[0][0]
        own_mac[mac] = host
        ips = collections.Counter(d[26:30] for _, d in recorded if d[6:12] == mac and d[12:14] == b"\x08\x00")
        address[host] = ".".join(str(b) for b in ips.most_common(1)[0][0]) if ips else None
        for t, d in recorded:
            if d[6:12] != mac:
                continue
            if d[12:14] == b"\x08\x00":
                ip_bytes = struct.unpack("!H", d[16:18])[0]
            elif d[12:14] == b"\x08\x06":
                ip_bytes = 28  # an ARP frame is as long as an empty UDP datagram's IP packet
            else:
                continue
            sent.append((t, host, d[0:6], ip_bytes))
    for host, ip in address.items():
        if ip:
            print("host", host, ip)
    for t, host, to, ip_bytes in sorted(sent):
        target = "*" if to == BROADCAST else own_mac.get(to)
        if not address.get(host) or target is None or (target != "*" and not address.get(target)):
            continue  # from or to no host with an address (one that only ever sent ARP)
        print("send", t, host, target, ip_bytes)


main()
