# Bash functions that every rendered step script carries (lib/core/shell-script.ts inlines
# this file). Each is idempotent: it compares before it changes, and records what it changed
# (in OSC_CHANGED and on disk) so that services restart only when their configuration did.
# OSC_STEP and OSC_HOST are set before this prelude; the script ends with osc_step_done.
# A run may be cut at any line (Terraform killed, the host's power lost) and run again: see
# "A run cut short" in shell-script.ts.
OSC_CHANGED=" "
OSC_SECRETS_DIR=${OSC_SECRETS_DIR:-/etc/openstack-cdktf/secrets}
OSC_STATE_DIR=${OSC_STATE_DIR:-/var/lib/openstack-cdktf}
OSC_LOCK=${OSC_LOCK:-/run/lock/openstack-cdktf.lock}
OSC_CHANGES_DIR="$OSC_STATE_DIR/changes/$OSC_STEP"
OSC_APT_STAMP="$OSC_STATE_DIR/apt-lists-updated"

osc_on_error() {
  local command=$3
  # A helper that fails with `return 1` leaves BASH_COMMAND at that `return`: name the
  # script's own line (the helper's call) instead.
  case "$command" in return | "return "*) [ ! -f "$0" ] || command=$(sed -n "$2{s/^ *//;p;q;}" "$0") ;; esac
  echo "FAILED step=$OSC_STEP host=$OSC_HOST line=$2 exit=$1 command: $command" >&2
}
trap 'osc_on_error "$?" "$LINENO" "$BASH_COMMAND"' ERR

# A copy of this script stays in OSC_RUNNING_DIR until the step ends well. A copy left behind
# is a run that was cut or that failed, maybe with no one to see it (Terraform killed: it saves
# a resource before its provisioner ends, so it may record the step as done). The next step on
# this host finishes it first; if it cannot, it says so and goes on (Terraform runs a step
# that failed in its sight again itself), and the host's last step fails (osc_no_cut_runs_left).
OSC_RUNNING_DIR="$OSC_STATE_DIR/running"
OSC_POLICY_RC_OURS=no
osc_on_exit() {
  [ "$OSC_POLICY_RC_OURS" = no ] || rm -f /usr/sbin/policy-rc.d
}
if [ -z "${OSC_FINISHING:-}" ]; then
  # One step at a time on this host.
  [ -d "$(dirname "$OSC_LOCK")" ] || install -d "$(dirname "$OSC_LOCK")"
  exec 9>>"$OSC_LOCK"
  if ! flock -w 1800 9; then
    echo "another step has held $OSC_LOCK for 30 min: $(lslocks -n -o PID,COMMAND 2>/dev/null | tr '\n' ' ')" >&2
    exit 1
  fi
  for osc_cut in "$OSC_RUNNING_DIR"/*.sh; do
    if [ ! -e "$osc_cut" ] || [ "$osc_cut" = "$OSC_RUNNING_DIR/$OSC_STEP.sh" ]; then continue; fi
    echo "step $(basename "$osc_cut" .sh) did not end well in an earlier run: finishing it first" >&2
    if ! OSC_FINISHING=1 bash "$osc_cut"; then
      echo "WARNING: finishing step $(basename "$osc_cut" .sh) failed; it stays to be finished later" >&2
    fi
  done
  [ -d "$OSC_RUNNING_DIR" ] || install -d -m 0700 "$OSC_RUNNING_DIR"
  cp "$0" "$OSC_RUNNING_DIR/.$OSC_STEP.sh.tmp"
  mv -f "$OSC_RUNNING_DIR/.$OSC_STEP.sh.tmp" "$OSC_RUNNING_DIR/$OSC_STEP.sh"
fi
trap osc_on_exit EXIT

# osc_no_cut_runs_left: fails while another step's run on this host has not ended well.
osc_no_cut_runs_left() {
  local cut
  for cut in "$OSC_RUNNING_DIR"/*.sh; do
    if [ -e "$cut" ] && [ "$cut" != "$OSC_RUNNING_DIR/$OSC_STEP.sh" ]; then
      echo "step $(basename "$cut" .sh) did not end well and could not be finished (see above)" >&2
      return 1
    fi
  done
}

# Changes that a cut run of this step recorded and may not have acted on.
if [ -d "$OSC_CHANGES_DIR" ]; then
  for osc_tag in "$OSC_CHANGES_DIR"/*; do
    [ ! -e "$osc_tag" ] || OSC_CHANGED="$OSC_CHANGED${osc_tag##*/} "
  done
fi

# osc_mark_changed TAG: remember that something behind TAG changes in this run. Call it
# before making the change: a mark without a change costs a restart, a change without a mark
# would be lost if the run is cut in between.
osc_mark_changed() {
  case "$OSC_CHANGED" in *" $1 "*) return 0 ;; esac
  [ -d "$OSC_CHANGES_DIR" ] || install -d -m 0700 "$OSC_CHANGES_DIR"
  : >"$OSC_CHANGES_DIR/$1"
  OSC_CHANGED="$OSC_CHANGED$1 "
}

# osc_step_done: the last line of every step; the changes were acted on.
osc_step_done() {
  rm -rf "$OSC_CHANGES_DIR"
  rm -f "$OSC_RUNNING_DIR/$OSC_STEP.sh"
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
  osc_mark_changed packages
  # A policy-rc.d of ours is left behind by a run cut mid-install: replace it, or drop it for --start.
  if grep -qs '^# openstack-cdktf' /usr/sbin/policy-rc.d; then rm -f /usr/sbin/policy-rc.d; fi
  if [ "$start" = no ] && [ ! -e /usr/sbin/policy-rc.d ]; then
    OSC_POLICY_RC_OURS=yes
    printf '#!/bin/sh\n# openstack-cdktf: no service starts while packages install\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 0755 /usr/sbin/policy-rc.d
  fi
  # A run cut mid-install leaves dpkg interrupted, and apt refuses to install until it is finished.
  if [ -n "$(dpkg --audit 2>/dev/null || true)" ]; then
    DEBIAN_FRONTEND=noninteractive dpkg --configure -a --force-confdef --force-confold
  fi
  # Package lists count as fresh for an hour after an update that completed (a cut update leaves
  # some lists new and others missing).
  if [ -z "$(find "$OSC_APT_STAMP" -mmin -60 2>/dev/null || true)" ]; then
    DEBIAN_FRONTEND=noninteractive "${apt[@]}" update
    install -d -m 0755 "$OSC_STATE_DIR"
    : >"$OSC_APT_STAMP"
  fi
  # shellcheck disable=SC2086 # one package name per word
  DEBIAN_FRONTEND=noninteractive "${apt[@]}" install --no-install-recommends $missing
  if [ "$OSC_POLICY_RC_OURS" = yes ]; then
    rm -f /usr/sbin/policy-rc.d
    OSC_POLICY_RC_OURS=no
  fi
}

# osc_apt_lists_changed: the package sources changed; the next install updates the lists first.
osc_apt_lists_changed() {
  rm -f "$OSC_APT_STAMP"
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
  # A temporary file of a cut run (one step at a time runs here, so none is in use).
  rm -f "$(dirname "$path")"/.osc.??????
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
  osc_mark_changed "$tag"
  mv -f "$tmp" "$path"
}

# osc_ini_set TAG FILE SECTION KEY VALUE: sets one key in a file the package shipped.
osc_ini_set() {
  local tag=$1 file=$2 section=$3 key=$4 value=$5
  if [ "$(crudini --get "$file" "$section" "$key" 2>/dev/null || true)" != "$value" ]; then
    osc_mark_changed "$tag"
    crudini --set "$file" "$section" "$key" "$value"
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

# osc_mask_units UNIT...: stops and masks units (a package's daemons that another unit replaces)
# unless they are masked already, so that they start neither now nor at boot.
osc_mask_units() {
  local unit
  for unit in "$@"; do
    if [ "$(systemctl is-enabled "$unit" 2>/dev/null || true)" != masked ]; then
      systemctl mask --now --quiet "$unit"
    fi
  done
}

# osc_wait_port HOST PORT SECONDS: waits until a TCP port accepts connections.
osc_wait_port() {
  # Microseconds, not $SECONDS: whole seconds since the shell started tick at any point of a
  # second, so "SECONDS + 2" could end after 1.1 s.
  local host=$1 port=$2 deadline=$((${EPOCHREALTIME//[!0-9]/} + $3 * 1000000))
  until (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; do
    if [ "${EPOCHREALTIME//[!0-9]/}" -ge "$deadline" ]; then
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

# A service's first schema sync may be cut halfway (Terraform killed, the host's power lost).
# MySQL cannot roll DDL back, and alembic records a migration only once it is whole, so the next
# sync runs the cut migration again onto its own half and fails ("Table ... already exists").
# Until a sync of a database has ended well once, the database holds nothing but that sync's
# work, and a sync that finds an unfinished first sync's mark empties it first. Marks live in
# OSC_SCHEMA_DIR on the host that syncs (the one with MariaDB's root socket), written durably.
OSC_SCHEMA_DIR="$OSC_STATE_DIR/schema"

# osc_schema_sync_begin DB...: before a sync of these databases.
osc_schema_sync_begin() {
  local db tables
  for db in "$@"; do
    [ ! -e "$OSC_SCHEMA_DIR/$db.synced" ] || continue
    tables=$(mysql -NBe "SELECT CONCAT('\`', table_name, '\`') FROM information_schema.tables WHERE table_schema = '$db'" | paste -sd, -)
    if [ -e "$OSC_SCHEMA_DIR/$db.started" ]; then
      if [ -n "$tables" ]; then
        echo "the first schema sync of database $db was cut: dropping its tables to sync again" >&2
        mysql -e "SET SESSION FOREIGN_KEY_CHECKS = 0; DROP TABLE IF EXISTS $tables;" "$db"
      fi
    elif [ -n "$tables" ]; then
      # Synced before marks were kept: its tables are not this sync's to drop, ever.
      osc_schema_mark "$db" synced
      continue
    fi
    osc_schema_mark "$db" started
  done
}

# osc_schema_sync_end DB...: the sync of these databases ended well; never empty them again.
osc_schema_sync_end() {
  local db
  for db in "$@"; do
    [ -e "$OSC_SCHEMA_DIR/$db.synced" ] || osc_schema_mark "$db" synced
    rm -f "$OSC_SCHEMA_DIR/$db.started"
  done
}

# osc_schema_mark DB started|synced: writes the mark and makes it durable before going on.
osc_schema_mark() {
  [ -d "$OSC_SCHEMA_DIR" ] || install -d -m 0700 "$OSC_SCHEMA_DIR"
  : >"$OSC_SCHEMA_DIR/$1.$2"
  sync "$OSC_SCHEMA_DIR/$1.$2" "$OSC_SCHEMA_DIR"
}
