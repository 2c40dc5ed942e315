# multi-wan: a router with two uplinks and one LAN. Sourced by scripts/make-samples.sh.
# wan1 198.51.100.2/24 via gw1 198.51.100.1, wan2 203.0.113.2/24 via gw2 203.0.113.1, lan0 192.168.10.1/24.
# New LAN connections are balanced per connection (statistic nth) and pinned with CONNMARK; fwmark 0x1 -> table 101
# (wan1), 0x2 -> table 102 (wan2). Connections arriving on an uplink are marked for that uplink so replies go back
# the way they came.
ns node
ns gw1
ns gw2
ns lan
link node wan1 gw1 eth0 02:00:00:00:30:01 02:00:00:00:31:01
link node wan2 gw2 eth0 02:00:00:00:30:02 02:00:00:00:32:01
link node lan0 lan eth0 02:00:00:00:30:10 02:00:00:00:33:14
nip node addr add 198.51.100.2/24 dev wan1
nip node addr add 203.0.113.2/24 dev wan2
nip node addr add 192.168.10.1/24 dev lan0
nip gw1 addr add 198.51.100.1/24 dev eth0
nip gw2 addr add 203.0.113.1/24 dev eth0
nip lan addr add 192.168.10.20/24 dev eth0
nip lan route add default via 192.168.10.1

# main: default via wan1 (what the router itself uses for unmarked traffic).
nip node route add default via 198.51.100.1 dev wan1
nip node route add default via 198.51.100.1 dev wan1 table 101
nip node route add default via 203.0.113.1 dev wan2 table 102
# LAN destinations always use main, whatever the mark: otherwise DNATed inbound traffic would follow the uplink table.
nip node rule add to 192.168.10.0/24 lookup main pref 1000
nip node rule add fwmark 0x1/0xff lookup 101 pref 1001
nip node rule add fwmark 0x2/0xff lookup 102 pref 1002

sysctl_ns node net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.default.rp_filter=2 \
  net.ipv4.conf.wan1.rp_filter=2 net.ipv4.conf.wan2.rp_filter=2 net.ipv4.conf.all.src_valid_mark=1

# The LAN host pings both gateways: two NATed conntrack entries, each carrying the mark of the uplink it took.
after_rules() {
  nsx lan ping -c 1 -W 1 198.51.100.1 > /dev/null || true
  nsx lan ping -c 1 -W 1 203.0.113.1 > /dev/null || true
}
