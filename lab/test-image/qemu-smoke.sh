#!/usr/bin/env bash
#
# Boots the test image (lab/test-image.ts) under qemu on a network of its own and checks what a
# lab check would read in Nova's console log, plus ping, SSH, HTTP and the power button from
# outside. Run as root (needs qemu-system-x86, dnsmasq-base, genisoimage):
#
#   bash lab/test-image/qemu-smoke.sh DISK_IMAGE
#
# Environment: ACCEL=tcg|kvm (default tcg: a /dev/kvm may not run stock kernels, as on a PVM
# host), MACHINE=pc|q35|..., CPU (a qemu CPU model; default qemu's), MEM (MiB, default 128),
# NO_NIC_VM=0 skips the VM without a NIC (its check waits out the guest's 120 s of metadata
# retries), LOGS (where the consoles, qemu's stderr and the servers' logs go at the end; default
# /tmp/imgtest-last).
#
# Everything lives in a network namespace imgtest-<pid>, removed on exit: a bridge imgtest0
# with 192.168.251.1/24 and the metadata address 169.254.169.254, taps imgtap0 and imgtap1,
# dnsmasq for DHCP and fake-metadata.py as the metadata service. VM a gets Neutron-style
# classless routes (option 121), MTU 1450, an SSH key and user data "ping=<b>" and
# "ping=<an absent address>"; VM b a plain router option and no key or user data; VM c no NIC.
set -Eeuo pipefail

disk=${1:?usage: qemu-smoke.sh DISK_IMAGE}
accel=${ACCEL:-tcg}
machine=${MACHINE:-pc}
cpu=${CPU:-}
mem=${MEM:-128}
no_nic_vm=${NO_NIC_VM:-1}
logs=${LOGS:-/tmp/imgtest-last}

here=$(cd "$(dirname "$0")" && pwd)
ns=imgtest-$$
work=$(mktemp -d /tmp/imgtest.XXXXXX)
net=192.168.251
uuid_a=6f1a3c7e-0a0a-4a0a-8a0a-00000000000a
uuid_b=6f1a3c7e-0b0b-4b0b-8b0b-00000000000b
pids=()
declare -A vm_pid
failures=0
start=$EPOCHREALTIME

cleanup() {
	local pid log
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	# Anything else still inside the namespace was started by this script.
	for pid in $(ip netns pids "$ns" 2>/dev/null); do
		kill "$pid" 2>/dev/null || true
	done
	ip netns delete "$ns" 2>/dev/null || true
	mkdir -p "$logs"
	for log in "$work"/*.log "$work"/*.err; do
		if [ -e "$log" ]; then cp "$log" "$logs/"; fi
	done
	rm -rf "$work"
	echo "== consoles and server logs in $logs"
}

# Not for "&": the pid would be a subshell's, and killing it would leave the command running.
in_ns() {
	ip netns exec "$ns" "$@"
}

elapsed() {
	awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'
}

pass() {
	echo "PASS $*"
}

fail() {
	echo "FAIL $*"
	failures=$((failures + 1))
}

# wait_for VM REGEX SECONDS: waits for a console line of the VM; prints it with the time since
# the VMs started.
wait_for() {
	local vm=$1 regex=$2 limit=$3 line deadline
	deadline=$(($(date +%s) + limit))
	while :; do
		line=
		if [ -e "$work/$vm.log" ]; then
			line=$(tr -d '\r' <"$work/$vm.log" | grep -a -m 1 -E "$regex" || true)
		fi
		if [ -n "$line" ]; then
			echo "  [$(elapsed) s] $vm: $line"
			return 0
		fi
		if [ "$(date +%s)" -ge "$deadline" ]; then
			return 1
		fi
		sleep 0.2
	done
}

check() {
	if wait_for "$1" "$2" "$3"; then
		pass "$1: /$2/"
	else
		fail "$1: no line /$2/ within $3 s"
	fi
}

setup_network() {
	echo "== network namespace $ns"
	ip netns add "$ns"
	in_ns ip link set lo up
	in_ns ip link add imgtest0 type bridge
	in_ns ip addr add "$net.1/24" dev imgtest0
	in_ns ip addr add 169.254.169.254/32 dev imgtest0
	in_ns ip link set imgtest0 up
	local i
	for i in 0 1; do
		in_ns ip tuntap add "imgtap$i" mode tap
		in_ns ip link set "imgtap$i" master imgtest0 up
	done
}

start_servers() {
	echo "== dnsmasq (DHCP only) and the metadata service"
	ip netns exec "$ns" dnsmasq --keep-in-foreground --conf-file=/dev/null --port=0 --no-resolv \
		--no-hosts --interface=imgtest0 --bind-interfaces --leasefile-ro \
		--log-dhcp --log-facility="$work/dnsmasq.log" \
		--dhcp-range="$net.10,$net.50,255.255.255.0,1h" \
		--dhcp-host="52:54:00:fb:00:0a,set:neutron,$net.10" \
		--dhcp-host="52:54:00:fb:00:0b,$net.11" \
		--dhcp-option="tag:neutron,option:classless-static-route,169.254.169.254/32,$net.1,0.0.0.0/0,$net.1" \
		--dhcp-option="tag:neutron,option:mtu,1450" \
		--dhcp-option="tag:neutron,option:dns-server,192.0.2.53" \
		--dhcp-option="option:router,$net.1" &
	pids+=("$!")

	ssh-keygen -q -t ed25519 -N '' -C imgtest -f "$work/id_ed25519"
	cat >"$work/instances.json" <<-EOF
		{
		  "$net.10": {"uuid": "$uuid_a", "name": "vm-a", "key": "$(cat "$work/id_ed25519.pub")",
		               "user_data": "#testvm\nping=$net.11\r\nping=$net.99\n"},
		  "$net.11": {"uuid": "$uuid_b", "name": "vm-b"}
		}
	EOF
	ip netns exec "$ns" /usr/bin/python3 "$here/fake-metadata.py" "$work/instances.json" \
		169.254.169.254 80 2>"$work/metadata.log" &
	pids+=("$!")
}

# vm NAME QEMU-NETWORK-ARGS...: starts one VM on a throwaway overlay of the image.
vm() {
	local name=$1
	shift
	ip netns exec "$ns" qemu-system-x86_64 -accel "$accel" -machine "$machine" ${cpu:+-cpu "$cpu"} \
		-m "$mem" -smp 1 -display none -monitor none -qmp "unix:$work/$name.qmp,server=on,wait=off" \
		-serial "file:$work/$name.log" -snapshot -drive "file=$disk,format=raw,if=virtio" \
		"$@" 2>"$work/$name.err" &
	pids+=("$!")
	vm_pid[$name]=$!
}

# qmp VM COMMAND: one QMP command to the VM's qemu.
qmp() {
	/usr/bin/python3 - "$work/$1.qmp" "$2" <<-'EOF'
		import json, socket, sys
		s = socket.socket(socket.AF_UNIX)
		s.connect(sys.argv[1])
		f = s.makefile("rw")
		f.readline()
		for cmd in ("qmp_capabilities", sys.argv[2]):
		    f.write(json.dumps({"execute": cmd}) + "\n")
		    f.flush()
		    f.readline()
	EOF
}

check_consoles() {
	echo "== console lines"
	local name
	for name in a b; do
		if ! wait_for "$name" '^TESTVM boot kernel=' 120; then
			fail "$name: no line /^TESTVM boot kernel=/ within 120 s; its console ends:"
			tr -d '\r' <"$work/$name.log" | tail -n 5
			exit 1
		fi
		pass "$name: /^TESTVM boot kernel=/"
	done
	check a "^TESTVM dhcp ip=$net.10/24 router=$net.1 mtu=1450\$" 120
	check b "^TESTVM dhcp ip=$net.11/24 router=$net.1 mtu=none\$" 60
	check a "^TESTVM metadata uuid=$uuid_a\$" 60
	check b "^TESTVM metadata uuid=$uuid_b\$" 60
	check a '^TESTVM sshd port=22 keys=1$' 60
	check b '^TESTVM sshd port=22 keys=0$' 60
	check a '^TESTVM httpd port=80$' 60
	check a '^TESTVM ready$' 60
	check b '^TESTVM ready$' 60
	check a "^TESTVM ping $net.11 ok\$" 60
	check a "^TESTVM ping $net.99 fail\$" 60
}

check_from_outside() {
	echo "== from outside"
	local ip got
	for ip in "$net.10" "$net.11"; do
		if in_ns ping -c 2 -W 2 "$ip" >/dev/null; then pass "ping $ip"; else fail "ping $ip"; fi
	done
	got=$(in_ns curl -s -m 10 "http://$net.10/" || true)
	if [ "$got" = "TESTVM $uuid_a" ]; then
		pass "http://$net.10/ answers: $got"
	else
		fail "http://$net.10/ answered '$got'"
	fi
	local ssh_opts=(-i "$work/id_ed25519" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
		-o ConnectTimeout=20 -o BatchMode=yes -o LogLevel=ERROR)
	# shellcheck disable=SC2016 # expanded by the guest's shell
	if got=$(in_ns timeout 120 ssh "${ssh_opts[@]}" "root@$net.10" 'echo "uid=$(id -u) $(uname -r)"'); then
		pass "ssh root@$net.10 with the injected key: $got"
	else
		fail "ssh root@$net.10 with the injected key"
	fi
	# What Tempest runs in its guests over SSH, behind its shell prologue (busybox has pipefail).
	# shellcheck disable=SC2016 # expanded by the guest's shell
	local prologue='set -eu -o pipefail; PATH=$PATH:/sbin:/usr/sbin;'
	tempest_cmd() {
		local want=$1 cmd=$2
		if got=$(in_ns timeout 60 ssh "${ssh_opts[@]}" "root@$net.10" "$prologue $cmd") &&
			[[ $got =~ $want ]]; then
			pass "tempest's '$cmd': /$want/"
		else
			fail "tempest's '$cmd' printed '${got:-}', expected /$want/"
		fi
	}
	tempest_cmd '^vm-a$' 'hostname'
	tempest_cmd '^ok$' 'sudo sh -c "echo ok"'
	tempest_cmd 'TYPE.*'$'\n''vda .* disk' 'lsblk -lb --nodeps'
	tempest_cmd '^i-6f1a3c7e$' 'curl -sf http://169.254.169.254/latest/meta-data/instance-id'
	tempest_cmd '^/dev/vda$' 'sudo blkid -o device /dev/vda'
	tempest_cmd '^1$' 'grep -c ^processor /proc/cpuinfo'
	tempest_cmd '^[0-9]+$' 'cat /var/run/udhcpc.eth0.pid'
	tempest_cmd '^nameserver 192.0.2.53$' 'cat /etc/resolv.conf'
	tempest_cmd '^/dev/sr0$' 'blkid -L config-2 -o device'
	tempest_cmd "\"uuid\": \"$uuid_a\"" \
		'sudo mount /dev/sr0 /mnt; sudo cat /mnt/openstack/latest/meta_data.json; sudo umount /mnt'
	if in_ns timeout 60 ssh "${ssh_opts[@]}" "root@$net.11" true 2>/dev/null; then
		fail "ssh root@$net.11 let in a key it was never given"
	else
		pass "ssh root@$net.11 refuses a key it was not given"
	fi
}

check_power_button() {
	echo "== power button (b)"
	qmp b system_powerdown
	check b '^TESTVM poweroff$' 60
	local _
	for _ in $(seq 1 100); do
		kill -0 "${vm_pid[b]}" 2>/dev/null || break
		sleep 0.2
	done
	if kill -0 "${vm_pid[b]}" 2>/dev/null; then
		fail "b: qemu still running 20 s after the poweroff line"
	else
		pass "b: qemu exited"
	fi
}

check_no_nic() {
	echo "== no NIC (c)"
	check c '^TESTVM dhcp failed$' 60
	check c '^TESTVM metadata failed$' 180
	check c '^TESTVM ready$' 30
}

main() {
	trap cleanup EXIT
	setup_network
	start_servers
	echo "== VMs ($accel, machine $machine, cpu ${cpu:-default}, $mem MiB)"
	start=$EPOCHREALTIME
	# A config drive as Nova makes one (ISO 9660 labelled config-2), on virtio-scsi as the image asks.
	mkdir -p "$work/config/openstack/latest"
	printf '{"uuid": "%s"}\n' "$uuid_a" >"$work/config/openstack/latest/meta_data.json"
	genisoimage -quiet -J -r -V config-2 -o "$work/config.iso" "$work/config"
	vm a -netdev tap,id=n0,ifname=imgtap0,script=no,downscript=no \
		-device virtio-net-pci,netdev=n0,mac=52:54:00:fb:00:0a \
		-device virtio-scsi-pci,id=scsi0 -device scsi-cd,bus=scsi0.0,drive=cd0 \
		-drive "if=none,id=cd0,file=$work/config.iso,format=raw,media=cdrom,readonly=on"
	vm b -netdev tap,id=n0,ifname=imgtap1,script=no,downscript=no \
		-device virtio-net-pci,netdev=n0,mac=52:54:00:fb:00:0b
	if [ "$no_nic_vm" = 1 ]; then vm c -nic none; fi
	check_consoles
	check_from_outside
	check_power_button
	if [ "$no_nic_vm" = 1 ]; then check_no_nic; fi
	echo "== $failures failed"
	[ "$failures" = 0 ]
}

# Parsed whole before it runs: editing this file while it runs changes nothing.
main "$@"
