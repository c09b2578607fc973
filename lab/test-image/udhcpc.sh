#!/bin/sh
# shellcheck shell=sh
#
# udhcpc's script in the test image (see init.sh): configures the interface from the lease and
# prints "TESTVM dhcp ip=<address>/<prefix> router=<address|none> mtu=<n|none>" when the
# address is new. udhcpc passes the event as $1 and the lease in the environment: interface,
# ip, mask (prefix length), router, mtu, staticroutes (option 121, "net/len gateway" pairs), dns.

STATE=/run/testvm
iface=${interface:?udhcpc sets interface}
address=${ip-}
prefix=${mask-}
mtu=${mtu-}
router=${router-}
staticroutes=${staticroutes-}

case "$1" in
deconfig)
	ip addr flush dev "$iface"
	ip link set dev "$iface" up
	rm -f "$STATE/dhcp"
	;;
bound | renew)
	# The lease's name servers (option 6), on every renewal: a subnet's DNS servers change
	# without its address changing (Tempest reads them here after a renewal).
	for server in ${dns-}; do echo "nameserver $server"; done >/etc/resolv.conf.new
	mv /etc/resolv.conf.new /etc/resolv.conf
	if [ "$(cat "$STATE/dhcp" 2>/dev/null)" = "$address/$prefix" ]; then
		exit 0
	fi
	ip addr flush dev "$iface"
	ip addr add "$address/$prefix" dev "$iface"
	if [ -n "$mtu" ]; then
		ip link set dev "$iface" mtu "$mtu"
	fi
	gateway=
	if [ -n "$staticroutes" ]; then
		# RFC 3442: with classless routes, the router option is ignored (Neutron sends the
		# default route among them, and the route to the metadata address without a router).
		# shellcheck disable=SC2086 # "net/len gateway" pairs, split on purpose
		set -- $staticroutes
		while [ "$#" -ge 2 ]; do
			if [ "$2" = 0.0.0.0 ]; then
				ip route add "$1" dev "$iface"
			else
				ip route add "$1" via "$2" dev "$iface"
			fi
			if [ "$1" = 0.0.0.0/0 ]; then
				gateway=$2
			fi
			shift 2
		done
	elif [ -n "$router" ]; then
		gateway=${router%% *}
		ip route add default via "$gateway" dev "$iface"
	fi
	echo "$address/$prefix" >"$STATE/dhcp"
	echo "TESTVM dhcp ip=$address/$prefix router=${gateway:-none} mtu=${mtu:-none}" >/dev/console
	;;
esac
exit 0
