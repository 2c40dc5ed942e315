#!/usr/bin/env python3
"""Packet injector for the kernel-differential tests, run inside a namespace with `ip netns exec NS python3 inject.py`.

One command per stdin line, one answer line (`ok`, `ok dropped` when netfilter refused a local packet with EPERM,
or `err <reason>`) per command:
  l2 IFACE HEX               write an Ethernet frame on IFACE (AF_PACKET): the node receives it from the wire
  l3 FAMILY MARK DST HEX     send an IP packet through a raw socket with IP_HDRINCL/IPV6_HDRINCL and SO_MARK:
                             a locally generated packet, it traverses OUTPUT with that mark
Python's standard library only, so CI needs nothing beyond the python3 package.
"""
import socket
import sys

SO_MARK = 36
IPV6_HDRINCL = 36

l2 = {}
l3 = {}


def raw(family, mark):
    key = (family, mark)
    if key not in l3:
        if family == 4:
            s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
            s.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
        else:
            s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
            s.setsockopt(socket.IPPROTO_IPV6, IPV6_HDRINCL, 1)
        s.setsockopt(socket.SOL_SOCKET, SO_MARK, mark)
        l3[key] = s
    return l3[key]


for line in sys.stdin:
    parts = line.split()
    try:
        if parts[0] == 'l2':
            iface, data = parts[1], bytes.fromhex(parts[2])
            if iface not in l2:
                s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
                s.bind((iface, 0))
                l2[iface] = s
            l2[iface].send(data)
        elif parts[0] == 'l3':
            family, mark, dst, data = int(parts[1]), int(parts[2]), parts[3], bytes.fromhex(parts[4])
            try:
                raw(family, mark).sendto(data, (dst, 0) if family == 4 else (dst, 0, 0, 0))
            except PermissionError:
                # netfilter dropped it on the way out (OUTPUT/POSTROUTING DROP or REJECT): sent, and traced
                print('ok dropped', flush=True)
                continue
        else:
            raise ValueError('unknown command ' + parts[0])
        print('ok', flush=True)
    except Exception as e:  # report and keep serving: one bad packet must not end the run
        print('err ' + str(e).replace('\n', ' '), flush=True)
