# syntax=docker/dockerfile:1
# Evidence Hub: one image for the API, the worker, or both ("all", with an embedded Temporal dev server).

# The Temporal CLI v1.5.1, built from source as the hub does on a bare machine (no binary download).
FROM golang:1.25-bookworm AS temporal-cli
RUN GOBIN=/out go install github.com/temporalio/cli/cmd/temporal@v1.5.1

# Node.js 24, the current LTS (the tests run on 20; 22 and 24 are expected to work).
FROM node:24-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
# MALLOC_ARENA_MAX and --liftoff-only as npm start has them: the idle embedded hub's resident
# memory (npm run bench -- footprint; README, "Memory").
ENV NODE_ENV=production \
    MALLOC_ARENA_MAX=2 \
    HUB_DATA_DIR=/data \
    PORT=8080
WORKDIR /app
COPY --from=temporal-cli /out/temporal /usr/local/bin/temporal
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8080 8233
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "--liftoff-only", "dist/main.js"]
CMD ["all"]
