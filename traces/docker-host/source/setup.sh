# docker-host: a Docker 28 node with the default bridge and two containers. Sourced by scripts/make-samples.sh.
# node: eth0 192.0.2.10/24 (uplink, default via 192.0.2.1), docker0 bridge 172.17.0.1/16.
# web (172.17.0.2) publishes 8080->80 and 8443->443; db (172.17.0.3) publishes 127.0.0.1:5432->5432.
ns node
ns upstream
ns web
ns db
link node eth0 upstream eth0 02:00:00:00:20:10 02:00:00:00:20:01
nip node addr add 192.0.2.10/24 dev eth0
nip node route add default via 192.0.2.1
nip upstream addr add 192.0.2.1/24 dev eth0
nip upstream route add 172.17.0.0/16 via 192.0.2.10

nip node link add docker0 type bridge
nip node link set docker0 address 02:42:ac:11:00:01
nip node addr add 172.17.0.1/16 dev docker0
nip node link set docker0 up
# Docker names the host ends veth<7 hex>; the container end is eth0.
link node veth1a2b3c4 web eth0 02:00:00:00:20:a2 02:42:ac:11:00:02
link node veth5d6e7f8 db eth0 02:00:00:00:20:a3 02:42:ac:11:00:03
nip node link set veth1a2b3c4 master docker0
nip node link set veth5d6e7f8 master docker0
nip web addr add 172.17.0.2/16 dev eth0
nip web route add default via 172.17.0.1
nip db addr add 172.17.0.3/16 dev eth0
nip db route add default via 172.17.0.1
# What dockerd sets: forwarding on (it also sets the FORWARD policy to DROP when it had to turn forwarding on).
sysctl_ns node net.ipv4.ip_forward=1

# The web container pings the upstream router: a MASQUERADEd conntrack entry (172.17.0.2 -> 192.0.2.10).
after_rules() {
  nsx web ping -c 1 -W 1 192.0.2.1 > /dev/null
}
