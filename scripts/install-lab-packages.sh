#!/bin/sh
# Install the Debian packages the mailprobe loopback lab needs, without
# starting any system service. Same steps as src/lab/install.ts, for CI
# images and Dockerfiles that prepare a machine ahead of `mailprobe lab up`.
# - policy-rc.d answers 101 during the install, so package scripts cannot
#   start the system Dovecot/Postfix on all interfaces; removed afterwards
#   only if this script created it.
# - Postfix is preseeded to "No configuration" so the system instance stays inert.
# Usage: install-lab-packages.sh [cyrus] [courier]
#   cyrus: also what `lab up --servers dovecot,cyrus` installs with apt
#   (src/lab/servers/cyrus.ts). cyrus-imapd and cyrus-pop3d conflict with
#   Dovecot's packages and are never installed: `lab up` downloads and unpacks
#   them into its own folder.
#   courier: likewise for `lab up --servers dovecot,courier`
#   (src/lab/servers/courier.ts); courier-imap and courier-pop are the ones
#   downloaded and unpacked instead of installed.
set -eu

PACKAGES="dovecot-core dovecot-imapd dovecot-pop3d postfix"
for server in "$@"; do
  case "$server" in
    dovecot) ;;
    cyrus) PACKAGES="$PACKAGES cyrus-common sasl2-bin libsasl2-modules libsasl2-modules-db" ;;
    courier) PACKAGES="$PACKAGES courier-base courier-authdaemon courier-authlib-userdb gamin libsasl2-modules" ;;
    *) echo "install-lab-packages.sh: unknown server \"$server\" (known: dovecot, cyrus, courier)" >&2; exit 2 ;;
  esac
done

missing=""
for pkg in $PACKAGES; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  case "$status" in
    *" installed") ;;
    *) missing="$missing $pkg" ;;
  esac
done

if [ -z "$missing" ]; then
  echo "mailprobe lab packages already installed"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "missing:$missing" >&2
  echo "install them with:" >&2
  echo "  sudo sh -c 'apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends$missing'" >&2
  exit 1
fi

POLICY=/usr/sbin/policy-rc.d
created_policy=no
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\n# written by install-lab-packages.sh; removed when it ends\nexit 101\n' > "$POLICY"
  chmod 755 "$POLICY"
  created_policy=yes
fi
cleanup() { if [ "$created_policy" = yes ]; then rm -f "$POLICY"; fi; }
trap cleanup EXIT INT TERM

export DEBIAN_FRONTEND=noninteractive
printf 'postfix postfix/main_mailer_type select No configuration\npostfix postfix/mailname string lab.test\n' | debconf-set-selections
apt-get update
# shellcheck disable=SC2086 # word splitting of the package list is intended
apt-get install -y --no-install-recommends -o Dpkg::Options::=--force-confold $missing
echo "installed:$missing"
