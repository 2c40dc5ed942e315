# kube-node: a Kubernetes worker in kube-proxy iptables mode. Sourced by scripts/make-samples.sh.
# node: eth0 192.0.2.10/24 (default via 192.0.2.1), cni0 bridge 10.244.1.1/24 (this node's pod CIDR) with three
# pods; the other nodes' pod CIDRs are routed to them (10.244.2.0/24 via 192.0.2.11, 10.244.3.0/24 via 192.0.2.12),
# as flannel's host-gw backend or a cloud route table would. No kube-ipvs0: iptables mode.
ns node
ns upstream
ns node2
ns node3
ns web
ns client
ns ingress

# The uplink segment: a bridge in `upstream` (the router, 192.0.2.1) with the three nodes on it.
nip upstream link add br0 type bridge
nip upstream link set br0 address 02:00:00:00:40:01
nip upstream addr add 192.0.2.1/24 dev br0
nip upstream link set br0 up
link upstream p-node node eth0 02:00:00:00:40:a0 02:00:00:00:40:10
link upstream p-node2 node2 eth0 02:00:00:00:40:a1 02:00:00:00:40:11
link upstream p-node3 node3 eth0 02:00:00:00:40:a2 02:00:00:00:40:12
for p in p-node p-node2 p-node3; do nip upstream link set "$p" master br0; done
# An external client, and the load balancer's route for the LoadBalancer IPs: they are sent to this node.
nip upstream addr add 203.0.113.7/32 dev lo
nip upstream route add 198.51.100.0/24 via 192.0.2.10

nip node addr add 192.0.2.10/24 dev eth0
nip node route add default via 192.0.2.1
nip node route add 10.244.2.0/24 via 192.0.2.11
nip node route add 10.244.3.0/24 via 192.0.2.12
nip node link add cni0 type bridge
nip node link set cni0 address 0a:58:0a:f4:01:01
nip node addr add 10.244.1.1/24 dev cni0
nip node link set cni0 up
# The bridge CNI plugin names the host end veth<8 hex>; the pod end is eth0.
link node veth1c9f2e4a web eth0 02:00:00:00:41:04 0a:58:0a:f4:01:04
link node veth5b7d3a10 client eth0 02:00:00:00:41:05 0a:58:0a:f4:01:05
link node veth8e2f6c91 ingress eth0 02:00:00:00:41:07 0a:58:0a:f4:01:07
for v in veth1c9f2e4a veth5b7d3a10 veth8e2f6c91; do nip node link set "$v" master cni0; done
nip web addr add 10.244.1.4/24 dev eth0
nip client addr add 10.244.1.5/24 dev eth0
nip ingress addr add 10.244.1.7/24 dev eth0
for p in web client ingress; do nip "$p" route add default via 10.244.1.1; done

# The other nodes: each holds one or two of the remote endpoints as local addresses.
nip node2 addr add 192.0.2.11/24 dev eth0
nip node2 addr add 10.244.2.5/32 dev lo
nip node2 route add 10.244.1.0/24 via 192.0.2.10
nip node3 addr add 192.0.2.12/24 dev eth0
nip node3 addr add 10.244.3.7/32 dev lo
nip node3 route add 10.244.1.0/24 via 192.0.2.10

# What kubeadm's preflight demands and kube-proxy sets: forwarding, bridged pod traffic through iptables (so a pod
# reaching a same-node endpoint through a Service is un-DNATed on the way back), localhost NodePorts.
sysctl_ns node net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1 net.ipv4.conf.all.route_localnet=1

# serve NS ADDR PORT: accept one TCP connection and hold it for 20 s (long enough for collect.sh), then exit.
serve() {
  nsx "$1" python3 -c 'import socket, sys, time
s = socket.socket(); s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(); s.settimeout(10)
try:
    c, _ = s.accept(); time.sleep(20)
except OSError:
    pass' "$2" "$3" > /dev/null 2>&1 &
}
# hold NS SRC SPORT DST DPORT: open a TCP connection from SRC:SPORT and keep it established for 20 s.
hold() {
  nsx "$1" python3 -c 'import socket, sys, time
c = socket.create_connection((sys.argv[3], int(sys.argv[4])), timeout=3, source_address=(sys.argv[1], int(sys.argv[2])))
time.sleep(20)' "$2" "$3" "$4" "$5" > /dev/null 2>&1 &
}

# Two established connections in conntrack.txt:
# - the client pod to the shop/web ClusterIP: kube-proxy picked one of the three endpoints at random, and the
#   conntrack entry pins the connection to it (all three endpoints listen, so whichever was picked answers);
# - the external client to the ingress LoadBalancer IP (externalTrafficPolicy=Local): DNATed to the local
#   ingress pod with the client's source address kept.
after_rules() {
  serve web 10.244.1.4 8080
  serve node2 10.244.2.5 8080
  serve node3 10.244.3.7 8080
  serve ingress 10.244.1.7 443
  sleep 1
  hold client 10.244.1.5 43210 10.96.0.20 80
  hold upstream 203.0.113.7 40443 198.51.100.10 443
  sleep 1
}
