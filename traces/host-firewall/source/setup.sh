# host-firewall: one server, one uplink. Sourced by scripts/make-samples.sh (helpers: ns, nip, nsx, link, sysctl_ns).
# node: eth0 192.0.2.10/24 + 2001:db8:10::10/64, default routes via the upstream router (.1 / ::1).
ns node
ns upstream
link node eth0 upstream eth0 02:00:00:00:10:10 02:00:00:00:10:01
nip node addr add 192.0.2.10/24 dev eth0
nip node addr add 2001:db8:10::10/64 dev eth0 nodad
nip node route add default via 192.0.2.1
nip node -6 route add default via 2001:db8:10::1
nip upstream addr add 192.0.2.1/24 dev eth0
nip upstream addr add 2001:db8:10::1/64 dev eth0 nodad
sysctl_ns node net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.default.rp_filter=1 net.ipv4.conf.eth0.rp_filter=1

# A ping from the router once the firewall is up: leaves an ICMP conntrack entry (accepted by ICMP-IN).
after_rules() {
  nsx upstream ping -c 1 -W 1 192.0.2.10 > /dev/null
}
