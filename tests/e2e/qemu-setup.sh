#!/bin/bash
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
#
# Prepare QEMU and a Linux guest for the end-to-end tests.
#
#   bash tests/e2e/qemu-setup.sh          # prints QEMU_* assignments on stdout
#   eval "$(bash tests/e2e/qemu-setup.sh)"
#   . "${VDC_QEMU_CACHE:-/var/cache/vhost-device-console/qemu}/env.sh"
#
# What it does (once; later runs only check the cache and print env.sh),
# with the helpers it shares with uml-setup.sh (sid-fetch.sh):
#  - installs busybox-static, patchelf and xz-utils from the system's apt
#    sources,
#  - downloads Debian sid's qemu-system-x86 (11.1), qemu-system-common,
#    qemu-system-data, seabios, ipxe-qemu and libc6 with a private apt
#    configuration (the system's sources and state are never touched,
#    nothing from sid is installed), unpacks them into a sysroot and makes
#    a copy of qemu-system-x86_64 that runs against that sysroot
#    (patchelf: interpreter + rpath); then, as long as the sysroot's loader
#    finds a library missing (or only on the host), fetches the library
#    packages the fetched packages depend on, and tries again,
#  - downloads bookworm's linux-image-amd64 kernel with the system's apt and
#    takes from it the kernel and the virtio modules a PCI console needs,
#  - builds an initramfs: static busybox, applet links, the modules and an
#    /init that runs the /payload.sh a test appends in a second archive.
#
# The sid package versions are recorded in $CACHE/versions.
#
# Environment:
#   VDC_QEMU_CACHE   cache directory (default /var/cache/vhost-device-console/qemu)
#   VDC_QEMU_MIRROR  Debian mirror for sid (default http://deb.debian.org/debian)
#   VDC_QEMU_SUITE   suite to take QEMU from (default sid)
#
# Exit status: 0 ready, 77 the guest can't be prepared here (archive
# unreachable, packages missing and not root, ...): the message starts with
# "SKIP:", tests should skip.  Anything else is a real error.

set -euo pipefail

CACHE=${VDC_QEMU_CACHE:-/var/cache/vhost-device-console/qemu}
CACHE_VAR=VDC_QEMU_CACHE
MIRROR=${VDC_QEMU_MIRROR:-http://deb.debian.org/debian}
SUITE=${VDC_QEMU_SUITE:-sid}
SETUP=qemu-setup
GUEST="QEMU end-to-end tests"
# Bump when the layout of the cache changes: older caches are rebuilt.
LAYOUT=1
QEMU_PACKAGES="qemu-system-x86 qemu-system-common qemu-system-data seabios ipxe-qemu libc6"
# In load order; each one's dependencies come before it.
MODULES="virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_console"
# shellcheck source=tests/e2e/sid-fetch.sh
. "$(dirname "${BASH_SOURCE[0]}")/sid-fetch.sh"

# The cache is complete when the stamp matches and every product exists.
cache_ready() {
	[ -f "$CACHE/env.sh" ] && [ -f "$CACHE/.complete" ] &&
		[ "$(cat "$CACHE/.complete")" = "$LAYOUT" ] &&
		[ -x "$CACHE/qemu-system-x86_64" ] && [ -f "$CACHE/vmlinuz" ] &&
		[ -f "$CACHE/initrd.cpio" ] && [ -f "$CACHE/versions" ]
}

sid_begin

# --- host packages ---------------------------------------------------------

host_packages busybox-static patchelf xz-utils kmod
command -v patchelf >/dev/null || die "patchelf not found after installation"
command -v modinfo >/dev/null || die "modinfo not found after installation (kmod)"
static_busybox

# --- sid packages ----------------------------------------------------------

SYSROOT="$CACHE/sysroot"

# unpack_new: unpack every .deb not unpacked yet into the sysroot.
unpack_new() {
	local deb
	mkdir -p "$SYSROOT/.unpacked"
	for deb in "$DEBS"/*.deb; do
		[ -e "$SYSROOT/.unpacked/$(basename "$deb")" ] && continue
		dpkg-deb -x "$deb" "$SYSROOT"
		: >"$SYSROOT/.unpacked/$(basename "$deb")"
	done
}

# lib_dependencies: the library packages (section libs) the fetched
# packages depend on and that are not fetched yet.
lib_dependencies() {
	local deb names
	names=$(for deb in "$DEBS"/*.deb; do
		dpkg-deb -f "$deb" Depends Pre-Depends
	done | sed 's/^[A-Za-z-]*: //' | tr ',' '\n' | sed 's/|.*//; s/(.*)//; s/:any//; s/[[:space:]]//g' |
		grep -v '^$' | sort -u)
	for p in $names; do
		have_deb "$p" && continue
		echo "$p"
	done | xargs -r apt-cache "${apt_opts[@]}" show 2>/dev/null |
		awk '/^Package:/ { p = $2 } /^Section:/ && ($2 == "libs" || $2 ~ /\/libs$/) { print p }' |
		sort -u
}

# ldd_missing: libraries of the patched QEMU that the sysroot's loader
# does not find in the sysroot.
ldd_missing() {
	# What ldd does, with the loader QEMU will run with (--list stops at
	# the first library missing).
	LD_TRACE_LOADED_OBJECTS=1 "$CACHE/qemu.new" 2>&1 |
		awk -v root="$SYSROOT/" '
			/=> not found/ { print $1; next }
			/=>/ && index($3, root) != 1 { print $1 }'
}

# Anything from an older, unfinished run is unpacked afresh.
rm -rf "$SYSROOT"
mkdir -p "$SYSROOT"
# shellcheck disable=SC2086 # word splitting of the package list is wanted
fetch_debs $QEMU_PACKAGES
for p in $QEMU_PACKAGES; do
	have_deb "$p" || skip "can't download $p from $MIRROR $SUITE"
done
check_libc

LIBDIR="$SYSROOT/usr/lib/x86_64-linux-gnu"
LDSO="$LIBDIR/ld-linux-x86-64.so.2"
round=0
while :; do
	round=$((round + 1))
	unpack_new
	[ -x "$SYSROOT/usr/bin/qemu-system-x86_64" ] || die "usr/bin/qemu-system-x86_64 missing from qemu-system-x86"
	[ -e "$LDSO" ] || die "no dynamic loader $LDSO in the unpacked libc6"
	cp "$SYSROOT/usr/bin/qemu-system-x86_64" "$CACHE/qemu.new"
	# DT_RPATH, not RUNPATH: it applies to the libraries' own dependencies too.
	patchelf --set-interpreter "$LDSO" --force-rpath --set-rpath "$LIBDIR" "$CACHE/qemu.new"
	lacking=$(ldd_missing | sort -u | tr '\n' ' ')
	[ -z "$lacking" ] && break
	[ "$round" -le 8 ] || die "libraries still missing after $round rounds: $lacking"
	deps=$(lib_dependencies)
	[ -n "$deps" ] || die "libraries missing ($lacking) and no library package left to fetch"
	log "missing: $lacking"
	# shellcheck disable=SC2086
	fetch_debs $deps
done
qver=$("$CACHE/qemu.new" --version 2>&1 | head -n1) || die "the patched QEMU does not run: $qver"
case $qver in
"QEMU emulator version "*) ;;
*) die "the patched QEMU printed no version: $qver" ;;
esac
"$CACHE/qemu.new" -device help 2>&1 | grep -q '"vhost-user-test-device-pci"' ||
	die "$qver has no vhost-user-test-device-pci (QEMU 10.2 or newer needed)"
mv "$CACHE/qemu.new" "$CACHE/qemu-system-x86_64"
apt_forget_index

for deb in "$DEBS"/*.deb; do
	dpkg-deb -f "$deb" Package Version | paste -sd ' ' | sed 's/^Package: //; s/ Version: / /'
done >"$CACHE/versions"

# --- guest kernel and modules (bookworm, the system's apt) -----------------

KDEBS="$CACHE/kernel-debs"
mkdir -p "$KDEBS"
sys_download() {
	local tmp rc=0
	tmp=$(mktemp -d "$KDEBS/.dl.XXXXXX")
	(cd "$tmp" && apt-get -q -o APT::Sandbox::User=root download "$@" >&2) || rc=$?
	if [ "$rc" != 0 ] && [ "$(id -u)" = 0 ]; then
		# Stale package lists name files the archive no longer has.
		apt-get update -q >&2 || true
		rc=0
		(cd "$tmp" && apt-get -q -o APT::Sandbox::User=root download "$@" >&2) || rc=$?
	fi
	if [ "$rc" = 0 ]; then
		mv "$tmp"/*.deb "$KDEBS"/
	fi
	rm -rf "$tmp"
	return "$rc"
}
if ! compgen -G "$KDEBS/linux-image-[0-9]*.deb" >/dev/null; then
	rm -f "$KDEBS"/*.deb
	log "downloading linux-image-amd64 with the system's apt"
	sys_download linux-image-amd64 || skip "can't download linux-image-amd64 from the system's apt sources"
	set -- "$KDEBS"/linux-image-amd64_*.deb
	kpkg=$(dpkg-deb -f "$1" Depends | tr ',' '\n' | sed 's/(.*)//; s/[[:space:]]//g' | grep '^linux-image-[0-9]' | head -n1)
	[ -n "$kpkg" ] || die "linux-image-amd64 depends on no linux-image-VERSION package"
	log "downloading $kpkg"
	sys_download "$kpkg" || skip "can't download $kpkg from the system's apt sources"
fi
set -- "$KDEBS"/linux-image-[0-9]*.deb
KDEB=$1
KROOT="$CACHE/kernel"
rm -rf "$KROOT"
mkdir -p "$KROOT"
log "unpacking $(basename "$KDEB")"
dpkg-deb -x "$KDEB" "$KROOT"
set -- "$KROOT"/boot/vmlinuz-*
[ -f "$1" ] || die "no /boot/vmlinuz-* in $(basename "$KDEB")"
kver=${1##*/vmlinuz-}
cp "$1" "$CACHE/vmlinuz"
moddir="$KROOT/lib/modules/$kver"
[ -d "$moddir/kernel" ] || die "no module tree $moddir"

# --- initramfs --------------------------------------------------------------

INITRD="$CACHE/initrd"
rm -rf "$INITRD"
busybox_root "$INITRD"

loaded=" "
for m in $MODULES; do
	f=$(find "$moddir/kernel" -name "$m.ko" -o -name "$m.ko.xz" -o -name "$m.ko.zst" -o -name "$m.ko.gz" | head -n1)
	if [ -z "$f" ]; then
		grep -q "/$m.ko\$" "$moddir/modules.builtin" 2>/dev/null ||
			die "module $m is neither in $kver's module tree nor built in"
		continue
	fi
	unpack_module "$f" "$INITRD/lib/modules/$m.ko"
	for d in $(modinfo -F depends "$INITRD/lib/modules/$m.ko" | tr ',' ' '); do
		case $loaded in
		*" ${d//-/_} "*) ;;
		*) die "module $m needs $d, which is not loaded before it (MODULES in $0)" ;;
		esac
	done
	loaded="$loaded$m "
	echo "$m" >>"$INITRD/lib/modules/order"
done

# /init: mount, load the modules, run the test's /payload.sh (appended as a
# second archive), power off.  The payload's exit status goes to the
# serial console as "QEMU-EXIT: N".
cat >"$INITRD/init" <<'EOF'
#!/bin/sh
# generated by qemu-setup.sh
export PATH=/bin HOME=/root TERM=dumb
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
stty -onlcr 2>/dev/null
while read -r m; do
	insmod "/lib/modules/$m.ko" || echo "QEMU-INIT: insmod $m failed"
done </lib/modules/order
cd /root
if [ -f /payload.sh ]; then
	sh /payload.sh </dev/null
	echo "QEMU-EXIT: $?"
else
	echo "QEMU-INIT: no /payload.sh"
fi
poweroff -f
EOF
chmod 755 "$INITRD/init"
(cd "$INITRD" && find . | sort | "$BUSYBOX" cpio -o -H newc -R 0:0 2>/dev/null) >"$CACHE/initrd.cpio.new"
mv "$CACHE/initrd.cpio.new" "$CACHE/initrd.cpio"
# The kernel and modules are in the products now.
rm -rf "$KROOT"

# --- env.sh ----------------------------------------------------------------

{
	echo "# generated by tests/e2e/qemu-setup.sh"
	printf 'QEMU_CACHE=%q\n' "$CACHE"
	printf 'QEMU_BIN=%q\n' "$CACHE/qemu-system-x86_64"
	printf 'QEMU_VERSION=%q\n' "${qver#QEMU emulator version }"
	printf 'QEMU_FIRMWARE=(%q %q %q)\n' "$SYSROOT/usr/share/qemu" "$SYSROOT/usr/share/seabios" "$SYSROOT/usr/lib/ipxe/qemu"
	printf 'QEMU_KERNEL=%q\n' "$CACHE/vmlinuz"
	printf 'QEMU_KVER=%q\n' "$kver"
	printf 'QEMU_INITRD=%q\n' "$CACHE/initrd.cpio"
} >"$CACHE/env.sh.new"
mv "$CACHE/env.sh.new" "$CACHE/env.sh"
echo "$LAYOUT" >"$CACHE/.complete"
log "ready: $qver, guest kernel $kver in $CACHE"
cat "$CACHE/env.sh"
