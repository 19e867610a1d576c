# pulseboard in a container, watching its host: see README "pulseboard in a container" for the run line.

# The base of both stages. Where Docker Hub cannot be reached, scripts/node-base-image.sh makes a stand-in:
# `--build-arg NODE_IMAGE=localhost/pulseboard-node:20.20.2`.
ARG NODE_IMAGE=node:20.20-alpine

# Build: dependencies from the lock file, the server and the page, then only what runs is kept.
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json vite.config.ts ./
COPY server ./server
COPY web ./web
# Chart.js is bundled into dist/web by the build: the server never loads it.
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && rm -rf node_modules/chart.js node_modules/@kurkle

# Run: Node and the built files, without npm and yarn (gone from the file system; the base layer still counts
# them in the image's size), as the unprivileged `node` user, who may write only the data directory
# (--data-dir ./data: durable history).
FROM ${NODE_IMAGE}
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /opt/yarn-* /usr/local/bin/yarn /usr/local/bin/yarnpkg \
 && mkdir -p /app/data \
 && chown node:node /app/data
ENV NODE_ENV=production PORT=3000 HOST=0.0.0.0
WORKDIR /app
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
USER node
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "dist/server/main.js"]
