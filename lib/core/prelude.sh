# Bash functions that every rendered step script carries (lib/core/shell-script.ts inlines
# this file). Each is idempotent: it compares before it changes, and records what it changed in
# OSC_CHANGED so that services restart only when their configuration did.
# OSC_STEP and OSC_HOST are set by the script before this prelude.
OSC_CHANGED=" "
OSC_SECRETS_DIR=${OSC_SECRETS_DIR:-/etc/openstack-cdktf/secrets}

osc_on_error() {
  local command=$3
  # A helper that fails with `return 1` leaves BASH_COMMAND at that `return`: name the
  # script's own line (the helper's call) instead.
  case "$command" in return | "return "*) [ ! -f "$0" ] || command=$(sed -n "$2{s/^ *//;p;q;}" "$0") ;; esac
  echo "FAILED step=$OSC_STEP host=$OSC_HOST line=$2 exit=$1 command: $command" >&2
}
trap 'osc_on_error "$?" "$LINENO" "$BASH_COMMAND"' ERR

# osc_mark_changed TAG: remember that something behind TAG changed in this run.
osc_mark_changed() {
  case "$OSC_CHANGED" in *" $1 "*) ;; *) OSC_CHANGED="$OSC_CHANGED$1 " ;; esac
}

osc_changed() {
  case "$OSC_CHANGED" in *" $1 "*) return 0 ;; *) return 1 ;; esac
}

# osc_packages_missing PKG...: prints the packages that are not installed.
osc_packages_missing() {
  local pkg
  for pkg in "$@"; do
    if [ "$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)" != "installed" ]; then
      printf '%s\n' "$pkg"
    fi
  done
}

# osc_apt_install [--start] PKG...: installs what is missing, non-interactively, waiting for
# the dpkg lock. Services are kept from starting (policy-rc.d) unless --start is given:
# unconfigured OpenStack services restart in a loop and starve a small host.
osc_apt_install() {
  local start=no
  if [ "${1:-}" = "--start" ]; then start=yes; shift; fi
  local missing
  missing=$(osc_packages_missing "$@")
  [ -n "$missing" ] || return 0
  local -a apt=(apt-get -q -y -o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
  if [ "$start" = no ] && [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 0755 /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -60 -print -quit)" ]; then
    DEBIAN_FRONTEND=noninteractive "${apt[@]}" update
  fi
  # shellcheck disable=SC2086 # one package name per word
  DEBIAN_FRONTEND=noninteractive "${apt[@]}" install --no-install-recommends $missing
  rm -f /usr/sbin/policy-rc.d
  osc_mark_changed packages
}

# osc_fill_secrets: copies stdin to stdout, replacing {{secret:NAME}} with the content of the
# root-only file $OSC_SECRETS_DIR/NAME, so that no secret appears in the script's text.
osc_fill_secrets() {
  OSC_SECRETS_DIR="$OSC_SECRETS_DIR" perl -pe '
    s/\{\{secret:([a-z0-9_]+)\}\}/osc_secret($1)/ge;
    sub osc_secret {
      my $f = "$ENV{OSC_SECRETS_DIR}/$_[0]";
      open(my $h, "<", $f) or die "missing secret $_[0] ($f)\n";
      my $v = do { local $/; <$h> }; close $h; chomp $v; return $v;
    }'
}

# osc_install_file TAG PATH OWNER GROUP MODE [--fill-secrets] < CONTENT: writes PATH whole,
# atomically, only when its content, owner or mode differ; marks TAG as changed when it wrote.
# With --fill-secrets, placeholders are filled first, and a missing secret leaves PATH as it was.
osc_install_file() {
  local tag=$1 path=$2 owner=$3 group=$4 mode=$5 fill=${6:-} tmp
  # Create the directory only when missing: `install -d` would reset an existing one to 0755
  # (a 0700 key repository would become world-readable).
  [ -d "$(dirname "$path")" ] || install -d "$(dirname "$path")"
  tmp=$(mktemp "$(dirname "$path")/.osc.XXXXXX")
  chmod 0600 "$tmp"
  if [ "$fill" = --fill-secrets ]; then
    osc_fill_secrets >"$tmp" || { rm -f "$tmp"; return 1; }
  else
    cat >"$tmp"
  fi
  if [ -f "$path" ] && cmp -s "$tmp" "$path" &&
    [ "$(stat -c '%U:%G %a' "$path")" = "$owner:$group $(printf '%o' "$((8#$mode))")" ]; then
    rm -f "$tmp"
    return 0
  fi
  chown "$owner:$group" "$tmp"
  chmod "$mode" "$tmp"
  mv -f "$tmp" "$path"
  osc_mark_changed "$tag"
}

# osc_ini_set TAG FILE SECTION KEY VALUE: sets one key in a file the package shipped.
osc_ini_set() {
  local tag=$1 file=$2 section=$3 key=$4 value=$5
  if [ "$(crudini --get "$file" "$section" "$key" 2>/dev/null || true)" != "$value" ]; then
    crudini --set "$file" "$section" "$key" "$value"
    osc_mark_changed "$tag"
  fi
}

# osc_restart_if_changed TAG UNIT...: enables the units and restarts them when TAG changed or
# they are not running; otherwise leaves them alone.
osc_restart_if_changed() {
  local tag=$1 unit
  shift
  for unit in "$@"; do
    if ! systemctl is-enabled --quiet "$unit" 2>/dev/null; then
      systemctl enable --quiet "$unit"
    fi
    if osc_changed "$tag" || ! systemctl is-active --quiet "$unit"; then
      systemctl restart "$unit"
    fi
  done
}

# osc_wait_port HOST PORT SECONDS: waits until a TCP port accepts connections.
osc_wait_port() {
  local host=$1 port=$2 deadline=$((SECONDS + $3))
  until (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "timed out after $3 s waiting for $host:$port" >&2
      return 1
    fi
    sleep 1
  done
}

# osc_as USER COMMAND...: runs a command as another user, with that user's environment.
osc_as() {
  local user=$1
  shift
  runuser -u "$user" -- "$@"
}
