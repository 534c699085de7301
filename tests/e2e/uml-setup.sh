#!/bin/bash
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
#
# Prepare a User Mode Linux guest for the end-to-end tests.
#
#   bash tests/e2e/uml-setup.sh          # prints UML_* assignments on stdout
#   eval "$(bash tests/e2e/uml-setup.sh)"
#   . "${VDC_UML_CACHE:-/var/cache/vhost-device-console/uml}/env.sh"
#
# What it does (once; later runs only check the cache and print env.sh):
#  - installs busybox-static and patchelf from the system's apt sources,
#  - downloads Debian sid's user-mode-linux and libc6 .debs with a private
#    apt configuration (the system's sources and state are never touched,
#    nothing from sid is installed),
#  - unpacks them into a sysroot and makes a copy of linux.uml that runs
#    against sid's glibc (patchelf: interpreter + rpath),
#  - extracts virtio_console.ko (decompressed),
#  - builds a guest root template: static busybox, applet links, mount
#    points and the module.
#
# Environment:
#   VDC_UML_CACHE   cache directory (default /var/cache/vhost-device-console/uml)
#   VDC_UML_MIRROR  Debian mirror (default http://deb.debian.org/debian)
#   VDC_UML_SUITE   suite to take the kernel and libc from (default sid)
#
# Exit status: 0 ready, 77 the guest can't be prepared here (archive
# unreachable, packages missing and not root, ...): the message starts with
# "SKIP:", tests should skip.  Anything else is a real error.

set -euo pipefail

CACHE=${VDC_UML_CACHE:-/var/cache/vhost-device-console/uml}
MIRROR=${VDC_UML_MIRROR:-http://deb.debian.org/debian}
SUITE=${VDC_UML_SUITE:-sid}
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
# Bump when the layout of the cache changes: older caches are rebuilt.
LAYOUT=1
HOST_PACKAGES="busybox-static patchelf"

log() { printf 'uml-setup: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
skip() {
	{
		echo "************************************************************"
		echo "SKIP: $*"
		echo "SKIP: UML end-to-end tests can't run on this machine."
		echo "************************************************************"
	} >&2
	exit 77
}

# The cache is complete when the stamp matches and every product exists.
cache_ready() {
	[ -f "$CACHE/env.sh" ] && [ -f "$CACHE/.complete" ] &&
		[ "$(cat "$CACHE/.complete")" = "$LAYOUT" ] &&
		[ -x "$CACHE/linux" ] && [ -f "$CACHE/virtio_console.ko" ] &&
		[ -x "$CACHE/root/bin/busybox" ] && [ -f "$CACHE/root/lib/modules/virtio_console.ko" ]
}

# Fast path: no lock, no network, no dpkg.
if cache_ready; then
	cat "$CACHE/env.sh"
	exit 0
fi

mkdir -p "$CACHE" 2>/dev/null || skip "can't create cache directory $CACHE (set VDC_UML_CACHE)"
[ -w "$CACHE" ] || skip "cache directory $CACHE is not writable (set VDC_UML_CACHE)"
case $CACHE in
/*) ;;
*) CACHE=$(cd "$CACHE" && pwd) ;;
esac
case $CACHE in
*[[:space:],:]*) die "cache path must not contain spaces, ',' or ':': $CACHE" ;;
esac

# Several test runs may start at once: one builds, the others wait.
exec 9>"$CACHE/.lock"
flock 9
if cache_ready; then
	cat "$CACHE/env.sh"
	exit 0
fi
rm -f "$CACHE/.complete" "$CACHE/env.sh"

# --- host packages ---------------------------------------------------------

pkg_installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'
}

missing=""
for p in $HOST_PACKAGES; do
	pkg_installed "$p" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	[ "$(id -u)" = 0 ] || skip "missing packages:$missing (run as root: apt-get install$missing)"
	command -v apt-get >/dev/null || skip "missing packages:$missing and no apt-get"
	log "installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	# shellcheck disable=SC2086 # word splitting of the package list is wanted
	if ! apt-get install -y -q --no-install-recommends $missing >&2; then
		apt-get update -q >&2 || true
		# shellcheck disable=SC2086
		apt-get install -y -q --no-install-recommends $missing >&2 ||
			skip "could not install$missing from the Debian archive"
	fi
fi
command -v patchelf >/dev/null || die "patchelf not found after installation"
BUSYBOX=/bin/busybox
[ -x "$BUSYBOX" ] || die "$BUSYBOX not found (busybox-static)"
# busybox (dynamic) and busybox-static both own /bin/busybox: insist on static.
if LC_ALL=C ldd "$BUSYBOX" >/dev/null 2>&1; then
	die "$BUSYBOX is dynamically linked; install busybox-static"
fi

# --- sid packages ----------------------------------------------------------

APT="$CACHE/apt"
DEBS="$CACHE/debs"
mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial" "$DEBS"
printf 'deb [signed-by=%s] %s %s main\n' "$KEYRING" "$MIRROR" "$SUITE" >"$APT/sources.list"
apt_opts=(
	-q
	-o "Dir::Etc::SourceList=$APT/sources.list"
	-o Dir::Etc::SourceParts=/dev/null
	-o Dir::Etc::Preferences=/dev/null
	-o Dir::Etc::PreferencesParts=/dev/null
	-o "Dir::State::Lists=$APT/lists"
	-o "Dir::Cache=$APT/cache"
	-o APT::Sandbox::User=root
	-o Acquire::Retries=2
	-o Acquire::http::Timeout=30
	-o Acquire::Languages=none
)

have_debs() {
	compgen -G "$DEBS/user-mode-linux_*.deb" >/dev/null &&
		compgen -G "$DEBS/libc6_*.deb" >/dev/null
}

if ! have_debs; then
	[ -r "$KEYRING" ] || skip "$KEYRING missing (package debian-archive-keyring)"
	log "fetching the $SUITE package index from $MIRROR"
	apt-get "${apt_opts[@]}" --error-on=any update >&2 ||
		skip "can't reach the Debian archive ($MIRROR $SUITE)"
	tmp=$(mktemp -d "$DEBS/.dl.XXXXXX")
	log "downloading user-mode-linux and libc6 from $SUITE"
	if ! (cd "$tmp" && apt-get "${apt_opts[@]}" download user-mode-linux libc6 >&2); then
		rm -rf "$tmp"
		skip "can't download user-mode-linux/libc6 from $MIRROR $SUITE"
	fi
	rm -f "$DEBS"/*.deb
	mv "$tmp"/*.deb "$DEBS"/
	rm -rf "$tmp"
	# The index is 10 MB and only needed again for a new download.
	rm -rf "$APT/lists" "$APT/cache"
fi
have_debs || die "no .deb files in $DEBS"

deb_version() { dpkg-deb -f "$1" Version; }
set -- "$DEBS"/libc6_*.deb
LIBC_DEB=$1
set -- "$DEBS"/user-mode-linux_*.deb
UML_DEB=$1
libc_ver=$(deb_version "$LIBC_DEB")
dpkg --compare-versions "$libc_ver" ge 2.38 ||
	die "libc6 $libc_ver from $SUITE is older than 2.38"

# --- unpack and patch ------------------------------------------------------

SYSROOT="$CACHE/sysroot"
rm -rf "$SYSROOT" "$SYSROOT.new"
mkdir -p "$SYSROOT.new"
log "unpacking $(basename "$UML_DEB") and $(basename "$LIBC_DEB")"
dpkg-deb -x "$UML_DEB" "$SYSROOT.new"
dpkg-deb -x "$LIBC_DEB" "$SYSROOT.new"
mv "$SYSROOT.new" "$SYSROOT"

ldso=""
for f in "$SYSROOT"/usr/lib/*-linux-gnu*/ld-linux*.so.*; do
	[ -f "$f" ] && [ ! -L "$f" ] && { ldso=$f; break; }
done
[ -n "$ldso" ] || die "no dynamic loader in the unpacked libc6"
libdir=$(dirname "$ldso")
[ -x "$SYSROOT/usr/bin/linux.uml" ] || die "usr/bin/linux.uml missing from $(basename "$UML_DEB")"

cp "$SYSROOT/usr/bin/linux.uml" "$CACHE/linux.new"
patchelf --set-interpreter "$ldso" --set-rpath "$libdir" "$CACHE/linux.new"
kver=$("$CACHE/linux.new" --version 2>/dev/null | head -n1) ||
	die "the patched UML kernel does not run"
[ -n "$kver" ] || die "the patched UML kernel printed no version"
mv "$CACHE/linux.new" "$CACHE/linux"

moddir=""
for d in "$SYSROOT/usr/lib/uml/modules/$kver" "$SYSROOT"/usr/lib/uml/modules/*; do
	[ -d "$d/kernel" ] && { moddir=$d; break; }
done
[ -n "$moddir" ] || die "no module tree under $SYSROOT/usr/lib/uml/modules"
mod=""
for f in "$moddir"/kernel/drivers/char/virtio_console.ko*; do
	[ -f "$f" ] && { mod=$f; break; }
done
[ -n "$mod" ] || die "virtio_console.ko not found in $moddir"
case $mod in
*.ko) cp "$mod" "$CACHE/virtio_console.ko.new" ;;
*.ko.xz) xz -dc "$mod" >"$CACHE/virtio_console.ko.new" ;;
*.ko.zst) zstd -qdc "$mod" >"$CACHE/virtio_console.ko.new" ;;
*.ko.gz) gzip -dc "$mod" >"$CACHE/virtio_console.ko.new" ;;
*) die "unknown module compression: $mod" ;;
esac
mv "$CACHE/virtio_console.ko.new" "$CACHE/virtio_console.ko"

# --- guest root template ---------------------------------------------------
#
# uml-lib.sh copies this for every boot; the guest only ever sees the copy.

ROOT="$CACHE/root"
rm -rf "$ROOT" "$ROOT.new"
mkdir -p "$ROOT.new"/{bin,proc,sys,dev,tmp,run,root,etc,lib/modules,uml}
ln -s bin "$ROOT.new/sbin"
mkdir -p "$ROOT.new/usr"
ln -s ../bin "$ROOT.new/usr/bin"
ln -s ../bin "$ROOT.new/usr/sbin"
cp "$BUSYBOX" "$ROOT.new/bin/busybox"
for applet in $("$BUSYBOX" --list); do
	case $applet in
	busybox | */*) continue ;;
	esac
	ln -s busybox "$ROOT.new/bin/$applet"
done
cp "$CACHE/virtio_console.ko" "$ROOT.new/lib/modules/virtio_console.ko"
echo "root:x:0:0:root:/root:/bin/sh" >"$ROOT.new/etc/passwd"
echo "root:x:0:" >"$ROOT.new/etc/group"
mv "$ROOT.new" "$ROOT"

# --- env.sh ----------------------------------------------------------------

{
	echo "# generated by tests/e2e/uml-setup.sh"
	printf 'UML_CACHE=%q\n' "$CACHE"
	printf 'UML_LINUX=%q\n' "$CACHE/linux"
	printf 'UML_ROOT=%q\n' "$ROOT"
	printf 'UML_MODULE=%q\n' "$CACHE/virtio_console.ko"
	printf 'UML_KVER=%q\n' "$kver"
	printf 'UML_MODULES_DIR=%q\n' "$moddir"
	printf 'UML_SYSROOT=%q\n' "$SYSROOT"
} >"$CACHE/env.sh.new"
mv "$CACHE/env.sh.new" "$CACHE/env.sh"
echo "$LAYOUT" >"$CACHE/.complete"
log "ready: UML kernel $kver in $CACHE"
cat "$CACHE/env.sh"
