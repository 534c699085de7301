# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
# shellcheck shell=bash
#
# What uml-setup.sh and qemu-setup.sh share: a cache directory built once
# under a lock, the host packages they need, Debian packages fetched with a
# private apt configuration (the system's sources and state are never
# touched, nothing fetched is installed), and a busybox root for a guest.
#
# Sourced (bash) after the caller has set:
#   SETUP     its name, for messages ("uml-setup")
#   GUEST     what cannot run without it ("UML end-to-end tests")
#   CACHE     the cache directory;  CACHE_VAR  the variable that sets it
#   MIRROR    the Debian mirror;    SUITE      the suite (sid)
# and defined cache_ready (true when every product is there).
#
# Exit status of a caller that gives up: 77 (skip(): the message starts
# with "SKIP:") when this machine cannot prepare the guest, 1 (die()) for a
# real error.

KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

log() { printf '%s: %s\n' "$SETUP" "$*" >&2; }
die() {
	log "ERROR: $*"
	exit 1
}
skip() {
	{
		echo "************************************************************"
		echo "SKIP: $*"
		echo "SKIP: $GUEST can't run on this machine."
		echo "************************************************************"
	} >&2
	exit 77
}

# sid_begin: print env.sh and end the script when the cache is ready (no
# lock, no network, no dpkg); else take the cache's lock (several test runs
# may start at once: one builds, the others wait) and clear its stamp.
sid_begin() {
	if cache_ready; then
		cat "$CACHE/env.sh"
		exit 0
	fi
	mkdir -p "$CACHE" 2>/dev/null || skip "can't create cache directory $CACHE (set $CACHE_VAR)"
	[ -w "$CACHE" ] || skip "cache directory $CACHE is not writable (set $CACHE_VAR)"
	case $CACHE in
	/*) ;;
	*) CACHE=$(cd "$CACHE" && pwd) ;;
	esac
	case $CACHE in
	*[[:space:],:]*) die "cache path must not contain spaces, ',' or ':': $CACHE" ;;
	esac
	exec 9>"$CACHE/.lock"
	flock 9
	if cache_ready; then
		cat "$CACHE/env.sh"
		exit 0
	fi
	rm -f "$CACHE/.complete" "$CACHE/env.sh"
	apt_paths
}

pkg_installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'
}

# host_packages PKG...: install the missing ones from the system's apt
# sources (as root), or skip.
host_packages() {
	local missing="" p
	for p in "$@"; do
		pkg_installed "$p" || missing="$missing $p"
	done
	[ -n "$missing" ] || return 0
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
}

# static_busybox: BUSYBOX, checked to be busybox-static's.
static_busybox() {
	BUSYBOX=/bin/busybox
	[ -x "$BUSYBOX" ] || die "$BUSYBOX not found (busybox-static)"
	# busybox (dynamic) and busybox-static both own /bin/busybox.
	if LC_ALL=C ldd "$BUSYBOX" >/dev/null 2>&1; then
		die "$BUSYBOX is dynamically linked; install busybox-static"
	fi
}

# --- the private apt ------------------------------------------------------

# apt_paths: APT (its configuration and index), DEBS (what it fetched) and
# apt_opts, in the cache (sid_begin() has made CACHE absolute).
apt_paths() {
	APT="$CACHE/apt"
	DEBS="$CACHE/debs"
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
	APT_UPDATED=0
}

# apt_update: the private index, fetched once and only when a package
# must be downloaded.
apt_update() {
	[ "$APT_UPDATED" = 1 ] && return 0
	[ -r "$KEYRING" ] || skip "$KEYRING missing (package debian-archive-keyring)"
	mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial"
	printf 'deb [signed-by=%s] %s %s main\n' "$KEYRING" "$MIRROR" "$SUITE" >"$APT/sources.list"
	log "fetching the $SUITE package index from $MIRROR"
	apt-get "${apt_opts[@]}" --error-on=any update >&2 ||
		skip "can't reach the Debian archive ($MIRROR $SUITE)"
	APT_UPDATED=1
}

# apt_forget_index: the index is 10 MB and only needed for a new download.
apt_forget_index() {
	rm -rf "$APT/lists" "$APT/cache"
}

# have_deb NAME: NAME's .deb is in $DEBS.
have_deb() { compgen -G "$DEBS/${1}_*.deb" >/dev/null; }

# fetch_debs NAME...: download the packages not in $DEBS yet.  One that
# can't be downloaded (a virtual package) is logged and left out.
fetch_debs() {
	local want=() p tmp
	mkdir -p "$DEBS"
	for p in "$@"; do
		have_deb "$p" || want+=("$p")
	done
	[ "${#want[@]}" -gt 0 ] || return 0
	apt_update
	tmp=$(mktemp -d "$DEBS/.dl.XXXXXX")
	log "downloading from $SUITE: ${want[*]}"
	if ! (cd "$tmp" && apt-get "${apt_opts[@]}" download "${want[@]}" >&2); then
		for p in "${want[@]}"; do
			(cd "$tmp" && apt-get "${apt_opts[@]}" download "$p" >&2) ||
				log "can't download $p from $SUITE; left out"
		done
	fi
	if compgen -G "$tmp/*.deb" >/dev/null; then
		mv "$tmp"/*.deb "$DEBS"/
	fi
	rm -rf "$tmp"
}

# check_libc: sid's binaries need the fetched libc6 to be 2.38 or newer.
check_libc() {
	local ver
	set -- "$DEBS"/libc6_*.deb
	ver=$(dpkg-deb -f "$1" Version)
	dpkg --compare-versions "$ver" ge 2.38 ||
		die "libc6 $ver from $SUITE is older than 2.38"
}

# --- the guest's root -------------------------------------------------------

# busybox_root DIR: static busybox with its applet links, the usual mount
# points and a root user.
busybox_root() {
	local dir=$1 applet
	mkdir -p "$dir"/{bin,proc,sys,dev,tmp,run,root,etc,lib/modules}
	ln -s bin "$dir/sbin"
	mkdir -p "$dir/usr"
	ln -s ../bin "$dir/usr/bin"
	ln -s ../bin "$dir/usr/sbin"
	cp "$BUSYBOX" "$dir/bin/busybox"
	for applet in $("$BUSYBOX" --list); do
		case $applet in
		busybox | */*) continue ;;
		esac
		ln -s busybox "$dir/bin/$applet"
	done
	echo "root:x:0:0:root:/root:/bin/sh" >"$dir/etc/passwd"
	echo "root:x:0:" >"$dir/etc/group"
}

# unpack_module SRC DST: a kernel module, decompressed.
unpack_module() {
	case $1 in
	*.ko) cp "$1" "$2" ;;
	*.ko.xz) xz -dc "$1" >"$2" ;;
	*.ko.zst) zstd -qdc "$1" >"$2" ;;
	*.ko.gz) gzip -dc "$1" >"$2" ;;
	*) die "unknown module compression: $1" ;;
	esac
}
