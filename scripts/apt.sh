# scripts/apt.sh, sourced by scripts/platform and scripts/containers.
#
# apt_install PKG...: install Debian packages, when there are any. Only
# root can; anyone else is told what to install. The caller defines log
# and die.
apt_install() {
  (($# == 0)) && return 0
  if [[ $(id -u) != 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    die "missing $*: install them (as root: apt-get install $*)"
  fi
  log "installing Debian packages: $*"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
